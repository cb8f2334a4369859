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
  it('writes externalId, spt, proto and the flow ids when the alert has them', () => {
    const line = formatCef(alert({ id: 'Aabc123', sport: 40000, proto: 'udp', community_id: '1:RTJLueY61P9fUGg+UQhYfUgCagU=', uid: 'CJy3Gu1D226h05YyYr3' }), ctx);
    const { ext } = parseCef(line);
    expect(ext).toMatchObject({
      externalId: 'Aabc123', src: '10.0.0.1', spt: '40000', dst: '10.0.0.2', dpt: '22', proto: 'UDP',
      cs3Label: 'communityId', cs3: '1:RTJLueY61P9fUGg+UQhYfUgCagU=', cs4Label: 'flowUid', cs4: 'CJy3Gu1D226h05YyYr3',
    });
    // the Community ID's base64 padding '=' is escaped, and parses back
    expect(line).toContain('cs3=1:RTJLueY61P9fUGg+UQhYfUgCagU\\= ');
  });
  it('puts IPv6 addresses in c6a2/c6a3 with their spec labels, never in src/dst (IPv4-only fields)', () => {
    const { ext } = parseCef(formatCef(alert({ src: 'fd00::1', dst: '2001:db8::2' }), ctx));
    expect(ext.src).toBeUndefined();
    expect(ext.dst).toBeUndefined();
    expect(ext).toMatchObject({ c6a2Label: 'Source IPv6 Address', c6a2: 'fd00::1', c6a3Label: 'Destination IPv6 Address', c6a3: '2001:db8::2' });
    const mixed = parseCef(formatCef(alert({ src: '10.0.0.1', dst: 'fd00::2' }), ctx)).ext;
    expect(mixed.src).toBe('10.0.0.1');
    expect(mixed.c6a2).toBeUndefined();
    expect(mixed.c6a3).toBe('fd00::2');
  });
  it('survives hostile values in every text field: header splits in 7 fields, extension keys are only ours', () => {
    const hostile = 'x\\|y=z\\\n|\r\\=' + NASTY + ' fake=1 cs1=T0000\\';
    const line = formatCef(alert({ kind: hostile, summary: hostile, id: hostile, src: hostile }), { ...ctx, version: '1|2\\', hostname: hostile, sensor: hostile });
    expect(line).not.toMatch(/[\x00-\x1f\x7f\u2028\u2029]/);
    const { header, ext } = parseCef(line);
    expect(header).toHaveLength(7);
    expect(header.slice(0, 3)).toEqual(['CEF:0', 'tapwatch', 'tapwatch']);
    expect(header[3]).toBe('1|2\\');
    expect(header[6]).toBe('8');
    // every unescaped key= in the extension is one the formatter wrote, in its order
    const keys = [...line.slice(line.indexOf('|rt=') + 1).matchAll(/(?:^| )(\w+)=/g)].map((m) => m[1]);
    expect(keys).not.toContain('fake');
    expect(keys.filter((k) => k === 'cs1')).toHaveLength(1);
    expect(ext.cs1).toBe('T1046');
    // the values come back exactly (our unsafe-character escapes aside)
    expect(ext.externalId!.startsWith('x\\|y=z\\\n|\r\\=a"b]c\\d|e=f\rg\nh')).toBe(true);
    expect(ext.msg!.endsWith(' fake=1 cs1=T0000\\')).toBe(true);
  });
  it('omits src/dst/dpt/technique when absent and reports count and update', () => {
    const line = formatCef(alert({ src: undefined, dst: undefined, dport: undefined, technique: undefined, count: 12, update: true }), ctx);
    expect(line).not.toMatch(/ (src|dst|dpt|cs1Label|cs1)=/);
    expect(line).toContain(' cnt=12 ');
    expect(line).toContain(' act=update ');
  });
});
