import type { Alert } from '../../../src/alerts/types.js';
import type { FormatContext } from '../../../src/alerts/format/context.js';

export const ctx: FormatContext = { hostname: 'sensor-1.example', sensor: 'eth0', version: '0.1.0' };

/** attacker-shaped text: every metacharacter any of our formats cares about */
export const NASTY = 'a"b]c\\d|e=f\rg\nh\x00i\x1bj\u2028k\u2029l\ud800m\udc00n\u202eo\x7fp\u0085q';

export function alert(over: Partial<Alert> = {}): Alert {
  return {
    kind: 'port_scan',
    severity: 'high',
    confidence: 0.9,
    src: '10.0.0.1',
    dst: '10.0.0.2',
    dport: 22,
    ts: 1700000000.123456,
    ts_first: 1699999990.000001,
    ts_last: 1700000000.5,
    summary: '10.0.0.1 probed 40 ports on 10.0.0.2',
    evidence: { ports: 40, window_s: 300 },
    technique: 'T1046',
    ...over,
  };
}

/** true if the string has any character outside printable ASCII */
export function nonPrintableAscii(s: string): boolean {
  return /[^\x20-\x7e]/.test(s);
}
