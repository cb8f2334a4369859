/**
 * Attacker-controlled bytes become text here, and only here. Printable ASCII
 * (0x20–0x7e) is kept; every other byte, and the backslash itself, is written
 * as \xNN (as Zeek does), so a DNS name, HTTP header or SSH banner can never
 * carry a newline, an escape sequence, a quote-breaking control character or
 * invalid UTF-8 into a log line, a syslog message or a terminal. The result is
 * unambiguous: "\x5c" always means a literal backslash byte.
 */

const HEX = '0123456789abcdef';

export function safeText(buf: Buffer, start: number, end: number, maxLen = 8192): string {
  if (end - start > maxLen) end = start + maxLen;
  let clean = true;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) { clean = false; break; }
  }
  if (clean) return buf.toString('latin1', start, end);
  let out = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) out += '\\x' + HEX[c >> 4] + HEX[c & 15];
    else out += String.fromCharCode(c);
  }
  return out;
}

/**
 * The same rule, written as bytes into `out` from index `n` (for text built up
 * from several pieces and made a string once, e.g. a DNS name from its labels).
 * `out` must have room for 4 bytes per input byte. Returns the new end index.
 */
export function safeTextInto(buf: Buffer, start: number, end: number, out: Buffer, n: number): number {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) {
      out[n++] = 0x5c; out[n++] = 0x78; out[n++] = HEX_BYTES[c >> 4]!; out[n++] = HEX_BYTES[c & 15]!;
    } else out[n++] = c;
  }
  return n;
}

const HEX_BYTES = Buffer.from(HEX, 'latin1');

/**
 * One DNS label into `out`: the same rule, plus a literal dot inside the label
 * written `\.` (as dig prints it), so the label `a.b` then `c` reads `a\.b.c`,
 * not `a.b.c` (three labels). A backslash is still only ever the start of an
 * escape: `\xNN` or `\.`.
 */
export function safeLabelInto(buf: Buffer, start: number, end: number, out: Buffer, n: number): number {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x2e) { out[n++] = 0x5c; out[n++] = 0x2e; } else n = safeTextInto(buf, i, i + 1, out, n);
  }
  return n;
}

/** The same rule for a JS string (e.g. one built from several buffers). */
export function safeString(s: string): string {
  // Most text needs no escape: return it as it is (building it again char by char allocates a string per char).
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c) {
      if (c > 0xff) out += '\\u' + c.toString(16).padStart(4, '0');
      else out += '\\x' + HEX[c >> 4] + HEX[c & 15];
    } else out += s[i];
  }
  return out;
}
