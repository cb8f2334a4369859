import { u32be } from './bytes.js';

/**
 * BSD loopback encapsulations: a 4-byte address family before the IP header.
 * LINKTYPE_NULL (0) stores it in the *capturing host's* byte order, so both are
 * tried; LINKTYPE_LOOP (108) stores it big-endian. AF_INET is 2 everywhere;
 * AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS).
 * @returns 4 or 6 for the IP version, 0 for another family, -1 if truncated
 */
export function decodeNullFamily(buf: Buffer, off: number, end: number, loop: boolean): number {
  if (end - off < 4) return -1;
  let fam = u32be(buf, off);
  if (!loop && (fam & 0xffff) === 0) fam = (buf[off]! | buf[off + 1]! << 8 | buf[off + 2]! << 16) + ((buf[off + 3]! << 24) >>> 0);
  if (fam === 2) return 4;
  if (fam === 24 || fam === 28 || fam === 30) return 6;
  return 0;
}
