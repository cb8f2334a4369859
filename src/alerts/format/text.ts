import type { Alert } from '../types.js';
import type { FormatContext } from './context.js';
import { escapeText, isoMicro } from './escape.js';

/**
 * One human-readable terminal line:
 *   2023-11-14T22:13:20.123456Z HIGH     port_scan      10.0.0.1 → 10.0.0.2:22  summary [×5] [update]
 * Every field that can carry packet-derived text is passed through
 * escapeText: control / invisible characters are shown as \xNN (\uXXXX above
 * 0xff) and a literal backslash as \\, so nothing can drive the terminal.
 */
export function formatText(alert: Alert, _ctx: FormatContext): string {
  const sev = alert.severity.toUpperCase().padEnd(8);
  const kind = escapeText(alert.kind).padEnd(14);
  const src = alert.src !== undefined ? escapeText(alert.src) : '-';
  let dst = alert.dst !== undefined ? escapeText(alert.dst) : '-';
  if (alert.dport !== undefined) dst = (dst.includes(':') ? `[${dst}]` : dst) + ':' + String(alert.dport);
  let line = `${isoMicro(alert.ts)} ${sev} ${kind} ${src} → ${dst}  ${escapeText(alert.summary)}`;
  if (alert.count !== undefined && alert.count > 1) line += ` ×${alert.count}`;
  if (alert.update) line += ' [update]';
  if (alert.technique) line += ` (${escapeText(alert.technique)})`;
  return line;
}
