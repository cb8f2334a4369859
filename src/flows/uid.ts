/**
 * Zeek-style unique ids: a letter ('C' for connections, 'A' for alerts) and
 * 96 bits in base62, e.g. "CHhAvVGS1DHFjwGM9". Zeek draws them from a seeded
 * random generator; here they come from a per-run seed and a counter, so
 *  - they are unique per run and sensor: the counter never repeats and the
 *    first word is a bijection of it (murmur3's finaliser is invertible), and
 *  - a run is reproducible: the same seed (`flows.uidSeed`, `--uid-seed`)
 *    over the same input gives the same ids, so two offline runs can be
 *    compared line by line. The default seed is random per run, as Zeek's.
 * `stream` separates generators sharing a seed (e.g. one per worker).
 */
import { randomBytes } from 'node:crypto';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** base62 of one 32-bit word, fixed width 6 (62^6 > 2^32), as character codes into `out` from `at`. */
function b62word(x: number, out: number[], at: number): void {
  for (let i = 0; i < 6; i++) { out[at + i] = B62.charCodeAt(x % 62); x = Math.floor(x / 62); }
}

/**
 * The uid's character codes, turned into one string at once: appending 18
 * characters one by one left a chain of 7 ConsStrings (32 bytes each) behind
 * every flow's uid, for as long as the flow lived — 0.25 KiB per flow, a
 * quarter of a flow's memory in a spoofed-source flood.
 */
const CODES: number[] = new Array<number>(19).fill(0);

/** A seed from text: a decimal/hex number or any string (hashed), so config files can hold either. */
export function parseSeed(s: string | number): [number, number] {
  if (typeof s === 'number') return [s >>> 0, Math.floor(s / 2 ** 32) >>> 0];
  let h1 = 0x9747b28c, h2 = 0x2545f491;
  for (let i = 0; i < s.length; i++) {
    h1 = fmix(h1 ^ s.charCodeAt(i));
    h2 = fmix((h2 + s.charCodeAt(i)) ^ h1);
  }
  return [h1, h2];
}

export function randomSeed(): [number, number] {
  const b = randomBytes(8);
  return [b.readUInt32BE(0), b.readUInt32BE(4)];
}

export class UidGen {
  private n = 0;
  private readonly s0: number;
  private readonly s1: number;

  /** `prefix`: one letter ('C', 'A') */
  constructor(readonly prefix: string, seed: [number, number], stream = 0) {
    if (prefix.length !== 1) throw new Error(`UidGen: the prefix is one letter, got "${prefix}"`);
    const st = fmix(Math.imul(stream + 1, 0x9e3779b1) >>> 0);
    this.s0 = (seed[0] ^ st) >>> 0;
    this.s1 = fmix((seed[1] + st) >>> 0);
  }

  next(): string {
    const n = this.n++;
    const lo = n >>> 0, hi = Math.floor(n / 2 ** 32) >>> 0;
    const w0 = fmix((lo ^ this.s0) >>> 0);
    // w0 is a bijection of the low counter word; w1 differs for every high word given w0: unique pairs
    const w1 = fmix((w0 ^ this.s1 ^ fmix(hi)) >>> 0);
    const w2 = fmix((w1 + this.s0) >>> 0);
    CODES[0] = this.prefix.charCodeAt(0);
    b62word(w0, CODES, 1); b62word(w1, CODES, 7); b62word(w2, CODES, 13);
    // one flat one-byte string (fromCharCode over an array builds it in one piece)
    return String.fromCharCode.apply(null, CODES);
  }
}
