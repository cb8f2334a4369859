/** Address formatting, done only when an address becomes part of an event or flow. */

/** per text length (7…15): a reused array of exactly that many character codes */
const V4_CODES: number[][] = Array.from({ length: 16 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Dotted quad, built as one flat string: a template literal leaves a
 * ConsString (32 bytes more) behind addresses of 13 characters and longer,
 * held by each flow for its lifetime.
 */
export function ipv4ToString(a: number): string {
  const o0 = a >>> 24, o1 = (a >>> 16) & 255, o2 = (a >>> 8) & 255, o3 = a & 255;
  const c = V4_CODES[digits(o0) + digits(o1) + digits(o2) + digits(o3) + 3]!;
  let i = putOctet(c, 0, o0);
  c[i++] = 46; i = putOctet(c, i, o1);
  c[i++] = 46; i = putOctet(c, i, o2);
  c[i++] = 46; putOctet(c, i, o3);
  return String.fromCharCode.apply(null, c);
}

function digits(x: number): number { return x >= 100 ? 3 : x >= 10 ? 2 : 1; }

/** writes octet x in decimal at c[i…]; returns the index after it */
function putOctet(c: number[], i: number, x: number): number {
  if (x >= 100) c[i++] = 48 + ((x / 100) | 0);
  if (x >= 10) c[i++] = 48 + (((x / 10) | 0) % 10);
  c[i++] = 48 + (x % 10);
  return i;
}

/** RFC 5952 text form of an IPv6 address given as four 32-bit words. */
export function ipv6ToString(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // IPv4-mapped ::ffff:a.b.c.d
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${ipv4ToString(w3 >>> 0)}`;
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (x: number): string => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  const left = g.slice(0, bestStart).map(hex).join(':');
  const right = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

export function addrToString(ver: number, w0: number, w1: number, w2: number, w3: number): string {
  return ver === 6 ? ipv6ToString(w0, w1, w2, w3) : ipv4Interned(w0);
}

const V4_CACHE_BITS = 14;
const v4Keys = new Int32Array(1 << V4_CACHE_BITS);
const v4Vals: string[] = new Array<string>(1 << V4_CACHE_BITS).fill('');

/**
 * ipv4ToString through a direct-mapped cache of 16 k addresses: the hosts seen
 * again and again (a victim, a resolver, a busy client) get one shared string
 * instead of one per flow and packet, and a shared string keeps its V8 hash,
 * so the detectors' Map look-ups by address do not rehash it.
 */
export function ipv4Interned(a: number): string {
  const i = Math.imul(a, 0x9e3779b1) >>> (32 - V4_CACHE_BITS);
  const v = v4Vals[i]!;
  if (v4Keys[i] === (a | 0) && v !== '') return v;
  const s = ipv4ToString(a);
  v4Keys[i] = a;
  v4Vals[i] = s;
  return s;
}

/** Parses dotted IPv4 to a uint32, or -1. */
export function parseIpv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return -1;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return -1;
    v = v * 256 + o;
  }
  return v;
}
