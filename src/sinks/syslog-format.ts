/**
 * Pure syslog message builders: RFC 5424 (default) and RFC 3164 (BSD).
 *
 * Decisions (documented here because receivers differ):
 * - Facility defaults to local5 (the facility Suricata's EVE syslog output
 *   uses, so existing rsyslog/SIEM routing for IDS alerts tends to fit).
 * - Severity: critical→2 (crit), high→3 (err), medium→4 (warning), low→5 (notice).
 * - TIMESTAMP is the alert's PACKET time (`alert.ts`), RFC 3339 UTC with
 *   microseconds: "time comes from packets", so a replayed pcap or a spooled
 *   message still carries when the attack happened. The emit time is not in
 *   the header; receivers record their own reception time anyway
 *   (rsyslog %timegenerated%).
 * - MSGID is the alert kind (SIEMs can route on it without parsing MSG).
 * - SD-ID defaults to "tapwatch@32473" (32473 is the example Private
 *   Enterprise Number reserved for documentation, RFC 5612); configurable.
 * - No BOM before MSG by default: our JSON/ECS payloads are pure ASCII, and
 *   many receivers keep a BOM as garbage. Set `bom: true` for strict UTF-8
 *   signalling of CEF payloads with non-ASCII text.
 * - Nothing raw below 0x20 (or DEL/C1/U+2028/…) ever appears: header fields
 *   are reduced to PRINTUSASCII, SD values and MSG are escaped (\xNN).
 */
import type { Alert, Severity } from '../alerts/types.js';
import { escapeSdValue, escapeUnsafe, isoMicro } from '../alerts/format/escape.js';

export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris_cron: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

export type FacilityName = keyof typeof FACILITIES;

export const DEFAULT_FACILITY: FacilityName = 'local5';
export const DEFAULT_SD_ID = 'tapwatch@32473';
export const APP_NAME = 'tapwatch';

/** syslog severity for an alert severity */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = {
  critical: 2,
  high: 3,
  medium: 4,
  low: 5,
};

/** facility number from a name or a number 0–23; throws on anything else */
export function parseFacility(f: FacilityName | string | number | undefined): number {
  if (f === undefined) return FACILITIES[DEFAULT_FACILITY];
  if (typeof f === 'number' || /^\d+$/.test(f)) {
    const n = Number(f);
    if (Number.isInteger(n) && n >= 0 && n <= 23) return n;
  } else if (Object.prototype.hasOwnProperty.call(FACILITIES, f.toLowerCase())) {
    return FACILITIES[f.toLowerCase() as FacilityName];
  }
  throw new Error(`invalid syslog facility "${String(f)}" (use kern…local7, e.g. local5, auth, or 0–23)`);
}

export function priority(facility: number, severity: Severity | string): number {
  const sev = (SYSLOG_SEVERITY as Record<string, number>)[severity] ?? SYSLOG_SEVERITY.low;
  return facility * 8 + sev;
}

/**
 * An RFC 5424 header field: PRINTUSASCII (33–126) only, at most `max`
 * octets, NILVALUE "-" when empty. Other characters become "_".
 */
export function headerField(s: string | number | undefined, max: number): string {
  if (s === undefined) return '-';
  const v = String(s).replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? '-' : v;
}

/** SD-NAME: PRINTUSASCII except '=', ' ', ']', '"', at most 32 chars */
function sdName(s: string): string {
  const v = s.replace(/[^\x21-\x7e]|[= \]"]/g, '_').slice(0, 32);
  return v === '' ? '_' : v;
}

export interface SyslogBuildOptions {
  /** facility number (see parseFacility); default local5 */
  facility?: number;
  /** HOSTNAME field; default "-" */
  hostname?: string;
  /** APP-NAME / TAG; default "tapwatch" */
  appName?: string;
  /** PROCID / [pid]; default "-" (5424) or omitted (3164) */
  procId?: string | number;
  /** MSGID; default the alert kind */
  msgId?: string;
  /** SD-ID; default tapwatch@32473 */
  sdId?: string;
  /** RFC 5424: prefix MSG with a UTF-8 BOM; default false */
  bom?: boolean;
  /** cap on the whole message in UTF-8 octets (MSG is truncated); default none for 5424, 1024 for 3164 */
  maxBytes?: number;
  /** RFC 3164 timestamp zone: "utc" (default) or "local" */
  timezone?: 'utc' | 'local';
}

/**
 * Structured data element for an alert:
 * [tapwatch@32473 kind="…" src="…" dst="…" dport="…" severity="…" technique="…" count="…" update="1"]
 * Absent fields are omitted; every value is escaped with escapeSdValue.
 */
export function structuredData(alert: Alert, sdId = DEFAULT_SD_ID): string {
  const params: Array<[string, string | number | undefined]> = [
    ['kind', alert.kind],
    ['src', alert.src],
    ['dst', alert.dst],
    ['dport', alert.dport],
    ['severity', alert.severity],
    ['technique', alert.technique],
    ['confidence', Number.isFinite(alert.confidence) ? alert.confidence : undefined],
    ['count', alert.count !== undefined && alert.count !== 1 ? alert.count : undefined],
    ['update', alert.update ? 1 : undefined],
  ];
  let sd = '[' + sdName(sdId);
  for (const [k, v] of params) {
    if (v === undefined) continue;
    sd += ' ' + k + '="' + escapeSdValue(String(v)) + '"';
  }
  return sd + ']';
}

/**
 * RFC 5424 message:
 * <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
 * TIMESTAMP is the packet time `alert.ts`. `msg` is the payload (json, ecs,
 * cef …); it is escaped again defensively so no control character survives.
 */
export function buildRfc5424(alert: Alert, msg: string, opts: SyslogBuildOptions = {}): string {
  const pri = priority(opts.facility ?? FACILITIES[DEFAULT_FACILITY], alert.severity);
  const head =
    `<${pri}>1 ${isoMicro(alert.ts)} ${headerField(opts.hostname, 255)} ` +
    `${headerField(opts.appName ?? APP_NAME, 48)} ${headerField(opts.procId, 128)} ` +
    `${headerField(opts.msgId ?? alert.kind, 32)} ${structuredData(alert, opts.sdId)}`;
  const body = escapeUnsafe(msg);
  if (body === '') return head;
  const prefix = head + ' ' + (opts.bom ? '\ufeff' : '');
  return opts.maxBytes !== undefined ? capBytes(prefix, body, opts.maxBytes) : prefix + body;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3164 TIMESTAMP "Mmm dd hh:mm:ss" (day space-padded), packet time */
export function bsdTimestamp(ts: number, timezone: 'utc' | 'local' = 'utc'): string {
  const d = new Date(Number.isFinite(ts) && Math.abs(ts) <= 8.64e12 ? Math.floor(ts) * 1000 : 0);
  const utc = timezone === 'utc';
  const mon = MONTHS[utc ? d.getUTCMonth() : d.getMonth()]!;
  const day = String(utc ? d.getUTCDate() : d.getDate()).padStart(2, ' ');
  const hh = String(utc ? d.getUTCHours() : d.getHours()).padStart(2, '0');
  const mm = String(utc ? d.getUTCMinutes() : d.getMinutes()).padStart(2, '0');
  const ss = String(utc ? d.getUTCSeconds() : d.getSeconds()).padStart(2, '0');
  return `${mon} ${day} ${hh}:${mm}:${ss}`;
}

export const RFC3164_MAX_BYTES = 1024;

/**
 * RFC 3164 message: <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG
 * HOSTNAME has no spaces; TAG is alphanumeric (plus _ . -), ≤ 32 chars. The
 * whole message is kept ≤ 1024 UTF-8 octets (maxBytes) by truncating MSG at
 * a character boundary.
 */
export function buildRfc3164(alert: Alert, msg: string, opts: SyslogBuildOptions = {}): string {
  const pri = priority(opts.facility ?? FACILITIES[DEFAULT_FACILITY], alert.severity);
  const host = headerField(opts.hostname, 255);
  const tag = (opts.appName ?? APP_NAME).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32) || APP_NAME;
  const pid = opts.procId !== undefined ? `[${headerField(opts.procId, 32)}]` : '';
  const prefix = `<${pri}>${bsdTimestamp(alert.ts, opts.timezone)} ${host} ${tag}${pid}: `;
  return capBytes(prefix, escapeUnsafe(msg), opts.maxBytes ?? RFC3164_MAX_BYTES);
}

/**
 * prefix + body, with body cut so the result is at most `max` UTF-8 octets;
 * never splits a character (or a surrogate pair).
 */
export function capBytes(prefix: string, body: string, max: number): string {
  const room = max - Buffer.byteLength(prefix);
  if (Buffer.byteLength(body) <= room) return prefix + body;
  if (room <= 0) return truncateUtf8(prefix, max);
  return prefix + truncateUtf8(body, room);
}

/** the longest prefix of `s` that is at most `max` UTF-8 octets */
export function truncateUtf8(s: string, max: number): string {
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + len > max) break;
    bytes += len;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.slice(0, i);
}
