/**
 * Event log lines (one JSON object per line, like Zeek's JSON logs). `ts` is
 * written as an exact decimal with the capture's precision; the internal
 * time fields are left out. Strings from packets were made safe at decode
 * (decode/text.ts); JSON escaping is applied on top.
 */
import type { NetEvent } from './types.js';
import { formatTs } from './make.js';

export function eventToJson(e: NetEvent): string {
  if (e.type === 'dns' && e.queryTsSec !== undefined) {
    // query_ts exact, like ts (the number on the event is a double: detectors compute with it)
    const { ts: _ts, tsSec: _s, tsNsec: _n, tsDigits: _d, query_ts: _q, queryTsSec: qs, queryTsNsec: qn, ...rest } = e;
    return `{"ts":${formatTs(e)},${JSON.stringify(rest).slice(1, -1)},"query_ts":${formatTs({ ts: 0, tsSec: qs, tsNsec: qn ?? 0, tsDigits: e.tsDigits })}}`;
  }
  const { ts: _ts, tsSec: _s, tsNsec: _n, tsDigits: _d, ...rest } = e;
  return `{"ts":${formatTs(e)},${JSON.stringify(rest).slice(1)}`;
}
