import type { Alert } from '../types.js';
import { alertCategory } from './category.js';
import type { FormatContext } from './context.js';
import { severityScore } from './context.js';
import { escapeCefHeader, escapeCefValue } from './escape.js';

/**
 * ArcSight CEF:0 line:
 *   CEF:0|tapwatch|tapwatch|<version>|<kind>|<summary>|<0-10>|rt=<ms> ...
 * Header fields escape `\` and `|`; extension values escape `\`, `=`, LF (\n)
 * and CR (\r); any other control / invisible code point becomes \xNN (\uXXXX
 * above 0xff) in both. Severity: low 3, medium 5, high 8, critical 10.
 * Times (rt, start, end) are packet times in ms since the epoch.
 */
export function formatCef(alert: Alert, ctx: FormatContext): string {
  const header = [
    'CEF:0',
    'tapwatch',
    'tapwatch',
    escapeCefHeader(ctx.version),
    escapeCefHeader(alert.kind),
    escapeCefHeader(alert.summary),
    String(severityScore(alert.severity)),
  ].join('|');
  const ext: Array<[string, string | number | undefined]> = [
    ['rt', msInt(alert.ts)],
    ['start', msInt(alert.ts_first)],
    ['end', msInt(alert.ts_last)],
    ['src', alert.src],
    ['dst', alert.dst],
    ['dpt', alert.dport],
    ['cat', alertCategory(alert)],
    ['cs1Label', alert.technique !== undefined ? 'technique' : undefined],
    ['cs1', alert.technique],
    ['cs2Label', 'sensor'],
    ['cs2', ctx.sensor],
    ['cfp1Label', 'confidence'],
    ['cfp1', Number.isFinite(alert.confidence) ? alert.confidence : undefined],
    ['cnt', alert.count ?? 1],
    ['dvchost', ctx.hostname],
    ['act', alert.update ? 'update' : 'alert'],
    ['msg', alert.summary],
  ];
  const parts: string[] = [];
  for (const [k, v] of ext) {
    if (v === undefined || v === '') continue;
    parts.push(k + '=' + escapeCefValue(String(v)));
  }
  return header + '|' + parts.join(' ');
}

function msInt(ts: number): number | undefined {
  return Number.isFinite(ts) ? Math.round(ts * 1000) : undefined;
}
