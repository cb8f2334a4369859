import { describe, it, expect } from 'vitest';
import {
  asciiJson,
  escapeCefHeader,
  escapeCefValue,
  escapeSdValue,
  escapeText,
  escapeUnsafe,
  fixedDecimal,
  hasUnsafe,
  hexEscape,
  isoMicro,
  safeStringify,
} from '../../../src/alerts/format/escape.js';
import { NASTY } from './fixtures.js';

describe('escapeUnsafe', () => {
  it('rewrites C0, DEL, C1, U+2028/2029, bidi overrides, BOM and lone surrogates as \\xNN / \\uXXXX', () => {
    expect(escapeUnsafe('\x00\x01\x1b\x1f\x7f\x85\x9f')).toBe('\\x00\\x01\\x1b\\x1f\\x7f\\x85\\x9f');
    expect(escapeUnsafe('a\u2028b\u2029c\u202ed\u2066e\ufeff')).toBe('a\\u2028b\\u2029c\\u202ed\\u2066e\\ufeff');
    expect(escapeUnsafe('x\ud800y\udc00z')).toBe('x\\ud800y\\udc00z');
  });
  it('leaves printable text, non-ASCII letters and valid surrogate pairs alone', () => {
    const s = 'héllo wörld ✓ 😀 "q" \\ | = ]';
    expect(escapeUnsafe(s)).toBe(s);
    expect(hasUnsafe(s)).toBe(false);
    expect(hasUnsafe('a\nb')).toBe(true);
  });
  it('hexEscape uses two digits up to 0xff and four above', () => {
    expect(hexEscape('\n')).toBe('\\x0a');
    expect(hexEscape('\u2028')).toBe('\\u2028');
  });
});

describe('format-specific escapers', () => {
  it('escapeText doubles a literal backslash so "\\x1b" typed by an attacker differs from a real ESC', () => {
    expect(escapeText('\\x1b')).toBe('\\\\x1b');
    expect(escapeText('\x1b')).toBe('\\x1b');
  });
  it('escapeCefHeader escapes \\ and | and hex-escapes controls (no raw newline in a header)', () => {
    expect(escapeCefHeader('a|b\\c\nd=e')).toBe('a\\|b\\\\c\\x0ad=e');
  });
  it('escapeCefValue escapes \\ = and uses \\n \\r for newlines, leaves | alone', () => {
    expect(escapeCefValue('a=b\\c\nd\re|f\x00')).toBe('a\\=b\\\\c\\nd\\re|f\\x00');
  });
  it('escapeSdValue escapes " \\ ] per RFC 5424 §6.3.3 and controls as \\xNN', () => {
    expect(escapeSdValue('a"b\\c]d\ne')).toBe('a\\"b\\\\c\\]d\\x0ae');
  });
  it('every escaper leaves no unsafe character in the attacker string', () => {
    for (const f of [escapeUnsafe, escapeText, escapeCefHeader, escapeCefValue, escapeSdValue]) {
      const out = f(NASTY);
      expect(hasUnsafe(out)).toBe(false);
      expect(out).not.toMatch(/[\r\n\x00\x1b]/);
    }
  });
});

describe('asciiJson', () => {
  it('produces printable-ASCII JSON that parses back to the same value', () => {
    const v = { s: NASTY, n: 1, nested: ['é', '😀'] };
    const out = asciiJson(v)!;
    expect(out).toMatch(/^[\x20-\x7e]*$/);
    expect(out).toContain('\\u2028');
    expect(out).toContain('\\ud800');
    expect(JSON.parse(out)).toEqual(v);
  });
  it('never throws on BigInt or cycles in evidence', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    expect(safeStringify({ big: 10n ** 30n })).toBe('{"big":"1000000000000000000000000000000"}');
    expect(JSON.parse(safeStringify({ cyc, big: 1n })!)).toEqual({ cyc: { a: 1, self: '[Circular]' }, big: '1' });
  });
  it('does not mark a shared (non-cyclic) object as circular', () => {
    const shared = { x: 1 };
    const cyc: Record<string, unknown> = { shared, again: shared };
    cyc.me = cyc;
    expect(JSON.parse(safeStringify(cyc)!)).toEqual({ shared: { x: 1 }, again: { x: 1 }, me: '[Circular]' });
  });
});

describe('numbers and times', () => {
  it('fixedDecimal writes 6 fraction digits and never an exponent', () => {
    expect(fixedDecimal(1700000000.123456)).toBe('1700000000.123456');
    expect(fixedDecimal(1.7e9)).toBe('1700000000.000000');
    expect(fixedDecimal(1e-7)).toBe('0.000000');
    expect(fixedDecimal(-0)).toBe('0.000000');
    expect(fixedDecimal(1e22)).toBe('10000000000000000000000.000000');
    expect(fixedDecimal(NaN)).toBe('null');
  });
  it('isoMicro renders UTC with microseconds', () => {
    expect(isoMicro(1700000000.123456)).toBe('2023-11-14T22:13:20.123456Z');
    expect(isoMicro(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(isoMicro(1700000000.9999996)).toBe('2023-11-14T22:13:21.000000Z');
    expect(isoMicro(-0.5)).toBe('1969-12-31T23:59:59.500000Z');
    expect(isoMicro(Infinity)).toBe('1970-01-01T00:00:00.000000Z');
  });
});
