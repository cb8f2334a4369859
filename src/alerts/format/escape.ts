/**
 * Escaping helpers shared by the alert formatters and the syslog builders.
 *
 * Alert text (summary, evidence, sometimes src/dst) can carry packet-derived,
 * attacker-controlled bytes. Every output path is single-line, so each helper
 * guarantees: no raw C0/C1 control characters, no DEL, no U+2028/U+2029 line
 * separators, no bidi overrides (terminal "trojan source" tricks), no BOM and
 * no lone UTF-16 surrogates in its result.
 *
 * Unsafe code points are written as `\xNN` (code point <= 0xff) or `\uXXXX`
 * (above 0xff, including lone surrogates), escaped in the SAME pass as the
 * format's own metacharacters, so a literal backslash from the input is
 * always distinguishable from one the escaper introduced.
 */

/**
 * Code points that must never appear raw in one of our lines:
 * C0 controls, DEL, C1 controls, LRM/RLM, line/paragraph separators,
 * bidi embeddings/overrides/isolates, BOM/ZWNBSP, and lone surrogates.
 */
const UNSAFE_SRC =
  '[\\x00-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ufeff]' +
  '|[\\ud800-\\udbff](?![\\udc00-\\udfff])' +
  '|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';

const UNSAFE_TEST = new RegExp(UNSAFE_SRC);

/** `\xNN` for code units up to 0xff, `\uXXXX` above (one UTF-16 code unit). */
export function hexEscape(ch: string): string {
  const c = ch.charCodeAt(0);
  return c <= 0xff
    ? '\\x' + c.toString(16).padStart(2, '0')
    : '\\u' + c.toString(16).padStart(4, '0');
}

/** true if `s` contains a character that escapeUnsafe would rewrite */
export function hasUnsafe(s: string): boolean {
  return UNSAFE_TEST.test(s);
}

/**
 * Build an escaper: characters in `special` map to their replacement, unsafe
 * code points to \xNN / \uXXXX, in one pass; one compiled regex per escaper.
 */
export function makeEscaper(special: Readonly<Record<string, string>>): (s: string) => string {
  const keys = Object.keys(special)
    .map((k) => k.replace(/[\\^\]\-[]/g, '\\$&'))
    .join('');
  const re = new RegExp((keys ? `[${keys}]|` : '') + UNSAFE_SRC, 'g');
  return (s: string) => s.replace(re, (m) => special[m] ?? hexEscape(m));
}

/** Replace unsafe code points with \xNN / \uXXXX; nothing else is touched. */
export const escapeUnsafe: (s: string) => string = makeEscaper({});

/**
 * Terminal text: unsafe code points as \xNN / \uXXXX and a literal backslash
 * doubled, so what is printed is unambiguous and cannot move the cursor,
 * recolour the terminal or reorder the line.
 */
export const escapeText: (s: string) => string = makeEscaper({ '\\': '\\\\' });

/** CEF header field (Device Vendor … Name): `\` → `\\`, `|` → `\|`, unsafe → \xNN. */
export const escapeCefHeader: (s: string) => string = makeEscaper({ '\\': '\\\\', '|': '\\|' });

/**
 * CEF extension value: `\` → `\\`, `=` → `\=`, LF → `\n`, CR → `\r`
 * (the CEF spec's own escapes), other unsafe code points → \xNN.
 */
export const escapeCefValue: (s: string) => string = makeEscaper({
  '\\': '\\\\',
  '=': '\\=',
  '\n': '\\n',
  '\r': '\\r',
});

/**
 * RFC 5424 SD PARAM-VALUE: `"`, `\` and `]` are backslash-escaped (§6.3.3);
 * control characters are not allowed raw anywhere in our messages, so they
 * become \xNN in the same pass.
 */
export const escapeSdValue: (s: string) => string = makeEscaper({ '"': '\\"', '\\': '\\\\', ']': '\\]' });

/**
 * JSON text that is pure printable ASCII: JSON.stringify (which already
 * escapes C0 controls and, since ES2019, lone surrogates) followed by
 * escaping every character outside 0x20–0x7e as \uXXXX. Outside strings
 * JSON.stringify emits only ASCII, so this touches string contents only.
 * Returns undefined where JSON.stringify does (undefined, functions).
 */
export function asciiJson(value: unknown): string | undefined {
  const s = safeStringify(value);
  return s === undefined ? undefined : jsonToAscii(s);
}

/** Escape every character of a JSON text outside 0x20–0x7e as \uXXXX. */
export function jsonToAscii(json: string): string {
  return json.replace(/[^\x20-\x7e]/g, (m) => '\\u' + m.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * JSON.stringify that never throws on evidence objects: BigInt becomes a
 * decimal string, a repeated ancestor (cycle) becomes "[Circular]".
 */
export function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, bigintReplacer);
  } catch {
    const ancestors: object[] = [];
    return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v !== 'object' || v === null) return v;
      // `this` is the object holding the key: unwind the ancestor stack to it
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(v)) return '[Circular]';
      ancestors.push(v);
      return v;
    });
  }
}

function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/**
 * A number as a plain decimal with exactly `digits` fraction digits, never
 * in exponent form (toFixed switches to exponent only at |x| >= 1e21, where
 * we fall back to BigInt for the integer part). Non-finite → "null".
 */
export function fixedDecimal(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return 'null';
  if (Math.abs(x) < 1e21) {
    const s = x.toFixed(digits);
    return s === '-0.' + '0'.repeat(digits) ? s.slice(1) : s;
  }
  return BigInt(Math.round(x)).toString() + (digits > 0 ? '.' + '0'.repeat(digits) : '');
}

/**
 * RFC 3339 / ISO 8601 UTC timestamp with microseconds from seconds since the
 * epoch, e.g. 2023-11-14T22:13:20.123456Z. Rounds to the nearest µs.
 */
export function isoMicro(ts: number): string {
  // outside Date's range (±8.64e12 s) or non-finite: clamp to the epoch
  if (!Number.isFinite(ts) || Math.abs(ts) > 8.64e12) ts = 0;
  const us = Math.round(ts * 1e6);
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const micro = ((us % 1000) + 1000) % 1000;
  return iso.slice(0, -1) + String(micro).padStart(3, '0') + 'Z';
}
