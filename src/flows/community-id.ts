/**
 * Community ID v1 flow hash (https://github.com/corelight/community-id-spec):
 *   "1:" + base64(SHA-1(seed:2 . saddr . daddr . proto:1 . 0:1 . sport:2 . dport:2))
 * with the endpoints ordered so the numerically smaller (address, port) comes
 * first, all in network byte order. ICMP/ICMPv6 use type and "counter-type"
 * (echo request ↔ reply …) as ports; a type without a counterpart is one-way:
 * (type, code), never reordered. This is what Zeek, Suricata and tshark write,
 * so one value pivots between their logs and ours.
 *
 * Computed once per flow. The input is at most 40 bytes, one SHA-1 block, so
 * the hash is done here in plain integer arithmetic: node:crypto's
 * createHash costs an object and a native call per flow, which is most of the
 * price in a spoofed-source flood (one new flow per packet). Checked against
 * node:crypto in test/unit/flows/community-id.test.ts.
 */

const W = new Int32Array(80);
/** the hash input: seed, two addresses (up to 16 bytes each), proto, pad, ports */
const MSG = new Uint8Array(64);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** SHA-1 of MSG[0..len) (len ≤ 55: one block), as 20 bytes into `out`. */
function sha1OneBlock(len: number, out: Uint8Array): void {
  MSG.fill(0, len);
  MSG[len] = 0x80;
  const bits = len * 8;
  MSG[62] = bits >>> 8; MSG[63] = bits & 0xff;
  for (let i = 0; i < 16; i++) W[i] = (MSG[i * 4]! << 24) | (MSG[i * 4 + 1]! << 16) | (MSG[i * 4 + 2]! << 8) | MSG[i * 4 + 3]!;
  for (let i = 16; i < 80; i++) { const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!; W[i] = (x << 1) | (x >>> 31); }
  const h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476, h4 = 0xc3d2e1f0 | 0;
  let a = h0, b = h1, c = h2, d = h3, e = h4;
  for (let i = 0; i < 80; i++) {
    let f: number, k: number;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc | 0; }
    else { f = b ^ c ^ d; k = 0xca62c1d6 | 0; }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]!) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  put32(out, 0, (h0 + a) | 0); put32(out, 4, (h1 + b) | 0); put32(out, 8, (h2 + c) | 0);
  put32(out, 12, (h3 + d) | 0); put32(out, 16, (h4 + e) | 0);
}

function put32(o: Uint8Array, i: number, v: number): void {
  o[i] = v >>> 24; o[i + 1] = (v >>> 16) & 0xff; o[i + 2] = (v >>> 8) & 0xff; o[i + 3] = v & 0xff;
}

const DIGEST = new Uint8Array(21); // 20 bytes + one zero so the last base64 group reads in bounds

/** "1:" and the 28 base64 characters, as character codes (see base64Digest) */
const OUT: number[] = new Array<number>(30).fill(0);
OUT[0] = 0x31; OUT[1] = 0x3a; OUT[29] = 0x3d; // "1:" … "="

/**
 * "1:" + standard base64 (with padding) of the 20-byte digest: 30 characters,
 * made into one flat string at once. Built by `+=` it left 8 ConsStrings
 * (32 bytes each) behind every flow's Community ID for the flow's lifetime.
 */
function base64Digest(): string {
  let o = 2;
  for (let i = 0; i < 18; i += 3) {
    const n = (DIGEST[i]! << 16) | (DIGEST[i + 1]! << 8) | DIGEST[i + 2]!;
    OUT[o++] = B64.charCodeAt(n >>> 18); OUT[o++] = B64.charCodeAt((n >>> 12) & 63);
    OUT[o++] = B64.charCodeAt((n >>> 6) & 63); OUT[o++] = B64.charCodeAt(n & 63);
  }
  const n = (DIGEST[18]! << 16) | (DIGEST[19]! << 8);
  OUT[o++] = B64.charCodeAt(n >>> 18); OUT[o++] = B64.charCodeAt((n >>> 12) & 63); OUT[o] = B64.charCodeAt((n >>> 6) & 63);
  return String.fromCharCode.apply(null, OUT);
}

/** Unsigned comparison of two addresses (words as the decoder keeps them), then ports: <0, 0, >0. */
function compareEndpoints(ver: number, a: readonly number[], ap: number, b: readonly number[], bp: number): number {
  const words = ver === 6 ? 4 : 1;
  for (let i = 0; i < words; i++) {
    const x = a[i]! >>> 0, y = b[i]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ap - bp;
}

const EP_A = [0, 0, 0, 0];
const EP_B = [0, 0, 0, 0];

/**
 * Community ID of a flow given as the decoder's address words (IPv4: word 0
 * only) and ports. `oneWay` keeps the given order (one-way ICMP).
 */
export function communityId(
  ver: number, proto: number,
  a0: number, a1: number, a2: number, a3: number, aport: number,
  b0: number, b1: number, b2: number, b3: number, bport: number,
  seed = 0, oneWay = false,
): string {
  EP_A[0] = a0; EP_A[1] = a1; EP_A[2] = a2; EP_A[3] = a3;
  EP_B[0] = b0; EP_B[1] = b1; EP_B[2] = b2; EP_B[3] = b3;
  let first = EP_A, second = EP_B, p1 = aport, p2 = bport;
  if (!oneWay && compareEndpoints(ver, EP_A, aport, EP_B, bport) > 0) { first = EP_B; second = EP_A; p1 = bport; p2 = aport; }
  MSG[0] = (seed >>> 8) & 0xff; MSG[1] = seed & 0xff;
  let o = 2;
  const words = ver === 6 ? 4 : 1;
  for (let i = 0; i < words; i++) { put32(MSG, o, first[i]!); o += 4; }
  for (let i = 0; i < words; i++) { put32(MSG, o, second[i]!); o += 4; }
  MSG[o++] = proto; MSG[o++] = 0;
  MSG[o++] = p1 >>> 8; MSG[o++] = p1 & 0xff;
  MSG[o++] = p2 >>> 8; MSG[o++] = p2 & 0xff;
  sha1OneBlock(o, DIGEST);
  return base64Digest();
}

/** ICMPv4 type → counterpart type (Zeek's ICMP4_counterpart). */
const ICMP4_COUNTER: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 };
/** ICMPv6 type → counterpart type (Zeek's ICMP6_counterpart). */
const ICMP6_COUNTER: Readonly<Record<number, number>> = {
  128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144,
};

/**
 * The "ports" of an ICMP message for the hash: [type, counterpart, false]
 * for request/reply pairs, else [type, code, true] (one-way).
 */
export function icmpPorts(v6: boolean, type: number, code: number): [number, number, boolean] {
  const c = (v6 ? ICMP6_COUNTER : ICMP4_COUNTER)[type];
  return c === undefined ? [type, code, true] : [type, c, false];
}

/** Community ID of one ICMP/ICMPv6 message from src to dst. */
export function icmpCommunityId(
  v6: boolean,
  s0: number, s1: number, s2: number, s3: number,
  d0: number, d1: number, d2: number, d3: number,
  type: number, code: number, seed = 0,
): string {
  const [sp, dp, oneWay] = icmpPorts(v6, type, code);
  return communityId(v6 ? 6 : 4, v6 ? 58 : 1, s0, s1, s2, s3, sp, d0, d1, d2, d3, dp, seed, oneWay);
}
