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
 *
 * Addresses: CEF's src/dst are IPv4 fields (ArcSight rejects or drops an IPv6
 * value there), so an IPv6 address goes to c6a2 / c6a3 with the labels the
 * CEF spec gives them ("Source IPv6 Address", "Destination IPv6 Address").
 * externalId is the alert's stable id (an update carries its alert's id),
 * proto the transport in upper case (TCP, UDP, ICMP, ICMPV6), spt the source
 * port where one flow is the cause; cs3 the flow's Community ID, cs4 its uid.
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
    ['externalId', alert.id],
    ...addr('src', 'c6a2', 'Source IPv6 Address', alert.src),
    ...addr('dst', 'c6a3', 'Destination IPv6 Address', alert.dst),
    ['spt', alert.sport],
    ['dpt', alert.dport],
    ['proto', alert.proto?.toUpperCase()],
    ['cat', alertCategory(alert)],
    ['cs1Label', alert.technique !== undefined ? 'technique' : undefined],
    ['cs1', alert.technique],
    ['cs2Label', 'sensor'],
    ['cs2', ctx.sensor],
    ['cs3Label', alert.community_id !== undefined ? 'communityId' : undefined],
    ['cs3', alert.community_id],
    ['cs4Label', alert.uid !== undefined ? 'flowUid' : undefined],
    ['cs4', alert.uid],
    // pcap on alert: CEF's own file-name key for the file holding the alert's packets
    ['fname', alert.pcap],
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

/** an address as CEF wants it: IPv4 (or anything not IPv6) in the plain key, IPv6 in the custom IPv6 field with its label */
function addr(v4Key: string, v6Key: string, label: string, a: string | undefined): Array<[string, string | undefined]> {
  if (a === undefined) return [];
  return a.includes(':') ? [[v6Key + 'Label', label], [v6Key, a]] : [[v4Key, a]];
}

function msInt(ts: number): number | undefined {
  return Number.isFinite(ts) ? Math.round(ts * 1000) : undefined;
}
