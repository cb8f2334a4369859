/**
 * Event log lines (one JSON object per line, like Zeek's JSON logs). `ts` is
 * written as an exact decimal with the capture's precision; the internal
 * time fields are left out. Strings from packets were made safe at decode
 * (decode/text.ts); JSON escaping is applied on top.
 */
import type { NetEvent } from './types.js';
import { formatTs } from './make.js';

export function eventToJson(e: NetEvent): string {
  const { ts: _ts, tsSec: _s, tsNsec: _n, tsDigits: _d, ...rest } = e;
  return `{"ts":${formatTs(e)},${JSON.stringify(rest).slice(1)}`;
}
