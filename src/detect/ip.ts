/**
 * Address-set membership on the detectors' hot paths. CidrSet.has parses the
 * address text with a RegExp (≈ 1 µs); an event's IPv4 text is parsed here
 * with a character loop and looked up with CidrSet.hasV4. IPv6 text goes to
 * CidrSet.has.
 */
import type { CidrSet } from '../util/cidr.js';

/** Dotted IPv4 text to uint32, or -1 (not dotted IPv4: IPv6, or malformed). */
export function ipv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let v = 0, octet = 0, digits = 0, dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + octet; octet = 0; digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + octet;
}

/** set.has(addr), without the RegExp for IPv4 */
export function inSet(set: CidrSet, addr: string): boolean {
  if (set.empty) return false;
  const v = ipv4(addr);
  return v >= 0 ? set.hasV4(v) : set.has(addr);
}

/** uint32 to dotted IPv4 text (the decoder's form: ipv4(ipv4Text(v)) === v, ipv4Text(ipv4(s)) === s) */
export function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
