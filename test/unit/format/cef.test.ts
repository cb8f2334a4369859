import { describe, it, expect } from 'vitest';
import { formatCef } from '../../../src/alerts/format/cef.js';
import { alert, ctx, NASTY } from './fixtures.js';

/** split a CEF line on unescaped '|' (header) and parse the extension */
function parseCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let cur = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i]!;
    if (c === '\\') {
      cur += line[++i];
    } else if (c === '|') {
      header.push(cur);
      cur = '';
    } else cur += c;
  }
  const rest = line.slice(i);
  const ext: Record<string, string> = {};
  // keys are \w+ followed by an unescaped '='; values run to the next " key="
  const re = /(\w+)=((?:\\.|[^\\])*?)(?= \w+=|$)/g;
  for (const m of rest.matchAll(re)) {
    ext[m[1]!] = m[2]!.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  }
  return { header, ext };
}

describe('formatCef', () => {
  it('writes the CEF:0 header with vendor, product, version, kind, summary and 0-10 severity', () => {
    const line = formatCef(alert(), ctx);
    expect(line.startsWith('CEF:0|tapwatch|tapwatch|0.1.0|port_scan|10.0.0.1 probed 40 ports on 10.0.0.2|8|rt=1700000000123 ')).toBe(true);
    const { ext } = parseCef(line);
    expect(ext).toMatchObject({
      rt: '1700000000123',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      dpt: '22',
      cat: 'discovery',
      cs1Label: 'technique',
      cs1: 'T1046',
      cnt: '1',
      msg: '10.0.0.1 probed 40 ports on 10.0.0.2',
    });
  });
  it('maps severities low=3 medium=5 high=8 critical=10', () => {
    const sev = (s: 'low' | 'medium' | 'high' | 'critical') => formatCef(alert({ severity: s }), ctx).split('|')[6];
    expect([sev('low'), sev('medium'), sev('high'), sev('critical')]).toEqual(['3', '5', '8', '10']);
  });
  it('escapes | and \\ in the header and = \\ CR LF in extension values; nothing raw breaks the line', () => {
    const line = formatCef(alert({ kind: 'a|b', summary: NASTY, src: 'x=y' }), ctx);
    expect(line).not.toMatch(/[\r\n\x00\x1b\u2028\u2029]/);
    expect(line).toContain('|a\\|b|');
    expect(line).toContain('src=x\\=y');
    expect(line).toContain('msg=a"b]c\\\\d|e\\=f\\rg\\nh\\x00i\\x1bj\\u2028k');
    const { header, ext } = parseCef(line);
    expect(header).toHaveLength(7);
    expect(header[4]).toBe('a|b');
    expect(ext.src).toBe('x=y');
    expect(ext.dst).toBe('10.0.0.2');
    expect(ext.msg!.startsWith('a"b]c\\d|e=f\rg\nh')).toBe(true);
  });
  it('omits src/dst/dpt/technique when absent and reports count and update', () => {
    const line = formatCef(alert({ src: undefined, dst: undefined, dport: undefined, technique: undefined, count: 12, update: true }), ctx);
    expect(line).not.toMatch(/ (src|dst|dpt|cs1Label|cs1)=/);
    expect(line).toContain(' cnt=12 ');
    expect(line).toContain(' act=update ');
  });
});
