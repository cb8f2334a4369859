import type { Alert } from '../types.js';
import type { FormatContext } from './context.js';
import { asciiJson, fixedDecimal } from './escape.js';

/**
 * tapwatch's own JSON line: the Alert's fields as they are, with `ts`,
 * `ts_first`, `ts_last` first as plain decimal numbers with 6 fraction digits
 * (µs, never exponent form), plus `sensor`. Output is printable ASCII only:
 * everything outside 0x20–0x7e inside strings is \uXXXX (covers U+2028/2029
 * and lone surrogates), so the line survives any transport and any JS parser.
 */
export function formatJson(alert: Alert, ctx: FormatContext): string {
  const { ts, ts_first, ts_last, ...rest } = alert;
  const obj: Record<string, unknown> = { sensor: ctx.sensor, ...rest };
  obj.sensor = ctx.sensor; // the context names the sensor, whatever the alert carries
  const body = asciiJson(obj) ?? '{}';
  const head =
    '{"ts":' + fixedDecimal(ts) + ',"ts_first":' + fixedDecimal(ts_first) + ',"ts_last":' + fixedDecimal(ts_last);
  return body === '{}' ? head + '}' : head + ',' + body.slice(1);
}
