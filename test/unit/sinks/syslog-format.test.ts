import { describe, it, expect } from 'vitest';
import {
  buildRfc3164,
  buildRfc5424,
  bsdTimestamp,
  capBytes,
  headerField,
  parseFacility,
  priority,
  structuredData,
  truncateUtf8,
} from '../../../src/sinks/syslog-format.js';
import { formatJson } from '../../../src/alerts/format/json.js';
import { hasUnsafe } from '../../../src/alerts/format/escape.js';
import { alert, ctx, NASTY } from '../format/fixtures.js';

/** RFC 5424 §6 grammar, SD as one or more [ID PARAM="VALUE"...] elements with escaped values */
const SD_VALUE = '"(?:\\\\.|[^"\\\\])*"';
const SD_ELEMENT = `\\[[^ =\\]"]+(?: [^ =\\]"]+=${SD_VALUE})*\\]`;
const RFC5424 = new RegExp(
  `^<(\\d{1,3})>1 (\\S+) (\\S{1,255}) (\\S{1,48}) (\\S{1,128}) (\\S{1,32}) (-|(?:${SD_ELEMENT})+)(?: (.*))?$`,
  's',
);

function parseSd(sd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of sd.matchAll(/ ([^ =\]"]+)="((?:\\.|[^"\\])*)"/g)) {
    out[m[1]!] = m[2]!.replace(/\\(["\\\]])/g, '$1');
  }
  return out;
}

describe('RFC 5424 builder', () => {
  const opts = { facility: 21, hostname: 'sensor-1.example', procId: 4242 };

  it('builds <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG that parses back field by field', () => {
    const a = alert();
    const msg = buildRfc5424(a, formatJson(a, ctx), opts);
    const m = RFC5424.exec(msg);
    expect(m).not.toBeNull();
    const [, pri, ts, host, app, procid, msgid, sd, body] = m!;
    expect(Number(pri)).toBe(21 * 8 + 3);
    expect(ts).toBe('2023-11-14T22:13:20.123456Z'); // packet time, µs
    expect([host, app, procid, msgid]).toEqual(['sensor-1.example', 'tapwatch', '4242', 'port_scan']);
    expect(sd!.startsWith('[tapwatch@32473 ')).toBe(true);
    expect(parseSd(sd!)).toEqual({
      kind: 'port_scan',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      dport: '22',
      severity: 'high',
      technique: 'T1046',
      confidence: '0.9',
    });
    expect(JSON.parse(body!).kind).toBe('port_scan');
  });

  it('maps severities critical→2 high→3 medium→4 low→5 and defaults to facility local5', () => {
    const pri = (s: 'low' | 'medium' | 'high' | 'critical') => Number(/^<(\d+)>/.exec(buildRfc5424(alert({ severity: s }), 'x'))![1]);
    expect([pri('critical'), pri('high'), pri('medium'), pri('low')]).toEqual([170, 171, 172, 173]);
    expect(priority(4, 'critical')).toBe(34); // auth.crit
  });

  it('escapes " \\ ] in SD values and leaves no raw control char, newline or U+2028 anywhere', () => {
    const a = alert({ kind: NASTY, src: NASTY, summary: NASTY, technique: 'T1"]\\' });
    const msg = buildRfc5424(a, `cef-like ${NASTY}`, opts);
    expect(hasUnsafe(msg)).toBe(false);
    expect(msg).not.toMatch(/[\x00-\x1f\x7f]/);
    const m = RFC5424.exec(msg);
    expect(m).not.toBeNull();
    const sd = parseSd(m![7]!);
    expect(sd.technique).toBe('T1"]\\');
    expect(sd.src).toBe('a"b]c\\d|e=f\\x0dg\\x0ah\\x00i\\x1bj\\u2028k\\u2029l\\ud800m\\udc00n\\u202eo\\x7fp\\x85q');
    // MSGID comes from the kind: printable ASCII without spaces, ≤ 32 chars
    expect(m![6]).toMatch(/^[\x21-\x7e]{1,32}$/);
  });

  it('reduces header fields to PRINTUSASCII with NILVALUE for empty, and caps their length', () => {
    expect(headerField('host name\u00e9', 255)).toBe('host_name_');
    expect(headerField('', 10)).toBe('-');
    expect(headerField(undefined, 10)).toBe('-');
    expect(headerField('x'.repeat(300), 255)).toHaveLength(255);
    const msg = buildRfc5424(alert(), 'm', { hostname: 'bad host\n', appName: 'a'.repeat(60) });
    const m = RFC5424.exec(msg)!;
    expect(m[3]).toBe('bad_host_');
    expect(m[4]).toHaveLength(48);
  });

  it('omits absent SD params and marks folded updates with count and update', () => {
    const sd = structuredData(alert({ src: undefined, dst: undefined, dport: undefined, technique: undefined, count: 4, update: true }));
    expect(sd).toBe('[tapwatch@32473 kind="port_scan" severity="high" confidence="0.9" count="4" update="1"]');
  });

  it('truncates MSG (not the header) to maxBytes without splitting a character', () => {
    const msg = buildRfc5424(alert(), 'é'.repeat(5000), { maxBytes: 2001 });
    expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(2001);
    expect(RFC5424.test(msg)).toBe(true);
    expect(msg).not.toContain('\ufffd');
  });

  it('prefixes a BOM only when asked', () => {
    expect(buildRfc5424(alert(), 'm', { bom: true }).endsWith(' \ufeffm')).toBe(true);
    expect(buildRfc5424(alert(), 'm')).toMatch(/\] m$/);
  });
});

describe('RFC 3164 builder', () => {
  it('builds <PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG from packet time', () => {
    const msg = buildRfc3164(alert(), 'hello', { hostname: 'sensor-1', procId: 7 });
    expect(msg).toBe('<171>Nov 14 22:13:20 sensor-1 tapwatch[7]: hello');
  });
  it('space-pads single-digit days', () => {
    expect(bsdTimestamp(Date.UTC(2024, 0, 5, 3, 4, 5) / 1000)).toBe('Jan  5 03:04:05');
  });
  it('keeps the whole message ≤ 1024 bytes by truncating MSG at a character boundary', () => {
    for (const body of ['x'.repeat(5000), '€'.repeat(2000), '😀'.repeat(1000)]) {
      const msg = buildRfc3164(alert(), body, { hostname: 'h', procId: 1 });
      expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(1024);
      expect(Buffer.byteLength(msg)).toBeGreaterThan(1020);
      expect(msg.startsWith('<171>Nov 14 22:13:20 h tapwatch[1]: ')).toBe(true);
      expect(msg).not.toMatch(/[\ud800-\udbff]$/);
    }
  });
  it('a 1024-byte message is kept whole, one byte more is cut', () => {
    const prefix = '<171>Nov 14 22:13:20 h tapwatch[1]: ';
    const fits = 'y'.repeat(1024 - prefix.length);
    expect(buildRfc3164(alert(), fits, { hostname: 'h', procId: 1 })).toBe(prefix + fits);
    expect(Buffer.byteLength(buildRfc3164(alert(), fits + 'z', { hostname: 'h', procId: 1 }))).toBe(1024);
  });
  it('escapes control characters in MSG', () => {
    expect(buildRfc3164(alert(), 'a\nb\x00', { hostname: 'h' })).toMatch(/: a\\x0ab\\x00$/);
  });
});

describe('helpers', () => {
  it('parseFacility accepts names and 0-23, rejects the rest', () => {
    expect(parseFacility(undefined)).toBe(21);
    expect(parseFacility('local0')).toBe(16);
    expect(parseFacility('AUTH')).toBe(4);
    expect(parseFacility(23)).toBe(23);
    expect(parseFacility('3')).toBe(3);
    expect(() => parseFacility('local8')).toThrow(/facility/);
    expect(() => parseFacility(24)).toThrow();
  });
  it('truncateUtf8 / capBytes never exceed the byte budget nor split a code point', () => {
    expect(truncateUtf8('a€b', 3)).toBe('a');
    expect(truncateUtf8('a€b', 4)).toBe('a€');
    expect(truncateUtf8('😀x', 3)).toBe('');
    expect(capBytes('pre ', 'body', 6)).toBe('pre bo');
    expect(capBytes('prefix', 'body', 3)).toBe('pre');
  });
});
