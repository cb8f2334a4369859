import { describe, it, expect } from 'vitest';
import { formatJson } from '../../../src/alerts/format/json.js';
import { alert, ctx, NASTY, nonPrintableAscii } from './fixtures.js';

describe('formatJson', () => {
  it('writes ts, ts_first, ts_last first as exact 6-decimal numbers, then sensor and the alert fields as they are', () => {
    const line = formatJson(alert(), ctx);
    expect(line.startsWith('{"ts":1700000000.123456,"ts_first":1699999990.000001,"ts_last":1700000000.500000,"sensor":"eth0",')).toBe(true);
    const o = JSON.parse(line);
    expect(o).toEqual({ ...alert(), ts_last: 1700000000.5, sensor: 'eth0' });
  });
  it('never uses exponent notation for whole-second or tiny times', () => {
    const line = formatJson(alert({ ts: 1.7e9, ts_first: 1e-7, ts_last: 1e21 }), ctx);
    expect(line).toContain('"ts":1700000000.000000');
    expect(line).toContain('"ts_first":0.000000');
    expect(line).toContain('"ts_last":1000000000000000000000.000000');
    expect(line).not.toMatch(/\d[eE][+-]?\d/);
  });
  it('is one printable-ASCII line even with attacker text, and round-trips it exactly', () => {
    const a = alert({ summary: NASTY, src: NASTY, evidence: { ua: NASTY } });
    const line = formatJson(a, ctx);
    expect(nonPrintableAscii(line)).toBe(false);
    expect(line).toContain('\\u2028');
    expect(line).toContain('\\u2029');
    expect(line).toContain('\\ud800');
    const o = JSON.parse(line);
    expect(o.summary).toBe(NASTY);
    expect(o.src).toBe(NASTY);
    expect(o.evidence.ua).toBe(NASTY);
  });
  it('keeps count and update, omits absent optional fields, writes null for a non-finite time', () => {
    const o = JSON.parse(
      formatJson(alert({ count: 7, update: true, src: undefined, technique: undefined, ts_first: NaN }), ctx),
    );
    expect(o.count).toBe(7);
    expect(o.update).toBe(true);
    expect('src' in o).toBe(false);
    expect('technique' in o).toBe(false);
    expect(o.ts_first).toBeNull();
  });
  it('the context sensor wins over a stray sensor field on the alert', () => {
    const a = { ...alert(), sensor: 'spoofed' } as ReturnType<typeof alert>;
    expect(JSON.parse(formatJson(a, ctx)).sensor).toBe('eth0');
  });
});
