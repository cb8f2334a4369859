import { describe, it, expect } from 'vitest';
import { formatText } from '../../../src/alerts/format/text.js';
import { alert, ctx, NASTY } from './fixtures.js';

describe('formatText', () => {
  it('renders time, severity, kind, src → dst:port and summary on one line', () => {
    expect(formatText(alert(), ctx)).toBe(
      '2023-11-14T22:13:20.123456Z HIGH     port_scan      10.0.0.1 → 10.0.0.2:22  10.0.0.1 probed 40 ports on 10.0.0.2 (T1046)',
    );
  });
  it('brackets IPv6 destinations before the port and shows - for missing addresses', () => {
    expect(formatText(alert({ dst: '2001:db8::1', dport: 443 }), ctx)).toContain('10.0.0.1 → [2001:db8::1]:443');
    expect(formatText(alert({ src: undefined, dst: undefined, dport: undefined }), ctx)).toContain(' - → -  ');
  });
  it('shows control and invisible characters as \\xNN / \\uXXXX so the terminal cannot be driven', () => {
    const line = formatText(alert({ summary: NASTY, kind: 'k\x1b[31m' }), ctx);
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202e]/);
    expect(line).toContain('k\\x1b[31m');
    expect(line).toContain('f\\x0dg\\x0ah\\x00i\\x1bj\\u2028k\\u2029l\\ud800m\\udc00n\\u202eo\\x7fp\\x85q');
    expect(line).toContain('c\\\\d');
  });
  it('marks folded counts and updates', () => {
    expect(formatText(alert({ count: 5, update: true }), ctx)).toMatch(/ ×5 \[update\]/);
  });
});
