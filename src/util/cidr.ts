/**
 * Address sets from CIDR lists (HOME_NET, allow-lists, threat-intel ranges).
 * IPv4 prefixes live in one sorted array of disjoint [start, end] ranges and
 * are matched by binary search, so hundreds of thousands of entries cost
 * O(log n) per lookup; IPv6 prefixes are matched by prefix on the expanded
 * address (rarely more than a few).
 */
import { parseIpv4 } from '../decode/addr.js';

export class CidrError extends Error {}

function expandV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let head = s, tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) { head = s.slice(0, dbl); tail = s.slice(dbl + 2); if (tail.includes('::')) return null; }
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups: number[] = [];
  const push = (parts: string[]): boolean => {
    for (const p of parts) {
      if (p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 < 0) return false;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
        groups.push(parseInt(p, 16));
      }
    }
    return true;
  };
  const hg: number[] = [];
  if (!push(h)) return null;
  hg.push(...groups.splice(0));
  if (!push(t)) return null;
  const tg = groups.splice(0);
  const fill = 8 - hg.length - tg.length;
  if ((dbl < 0 && fill !== 0) || fill < 0) return null;
  const all = [...hg, ...Array<number>(dbl >= 0 ? fill : 0).fill(0), ...tg];
  let v = 0n;
  for (const g of all) v = (v << 16n) | BigInt(g);
  return v;
}

export class CidrSet {
  private starts = new Float64Array(0);
  private ends = new Float64Array(0);
  private v6: { net: bigint; bits: number }[] = [];
  size = 0;

  static parse(list: readonly string[], where = 'list'): CidrSet {
    const s = new CidrSet();
    const ranges: [number, number][] = [];
    for (const raw of list) {
      const item = raw.trim();
      if (item === '') continue;
      const [addr, lenStr] = item.split('/');
      if (addr!.includes(':')) {
        const v = expandV6(addr!);
        const bits = lenStr === undefined ? 128 : Number(lenStr);
        if (v === null || !Number.isInteger(bits) || bits < 0 || bits > 128) throw new CidrError(`${where}: "${item}" is not an IPv6 address or prefix`);
        const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
        s.v6.push({ net: v & mask, bits });
      } else {
        const v = parseIpv4(addr!);
        const bits = lenStr === undefined ? 32 : Number(lenStr);
        if (v < 0 || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new CidrError(`${where}: "${item}" is not an IPv4 address or prefix`);
        const size = 2 ** (32 - bits);
        const start = Math.floor(v / size) * size;
        ranges.push([start, start + size - 1]);
      }
      s.size++;
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    s.starts = Float64Array.from(merged.map((r) => r[0]));
    s.ends = Float64Array.from(merged.map((r) => r[1]));
    return s;
  }

  get empty(): boolean { return this.size === 0; }

  /** Does the textual address (as events carry it) fall in the set? */
  has(addr: string): boolean {
    if (addr.includes(':')) {
      if (this.v6.length === 0) return false;
      const v = expandV6(addr);
      if (v === null) return false;
      for (const p of this.v6) {
        const mask = p.bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - p.bits)) - 1n);
        if ((v & mask) === p.net) return true;
      }
      return false;
    }
    return this.hasV4(parseIpv4(addr));
  }

  hasV4(v: number): boolean {
    if (v < 0) return false;
    const st = this.starts;
    let lo = 0, hi = st.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (st[mid]! <= v) lo = mid + 1; else hi = mid - 1;
    }
    return hi >= 0 && v <= this.ends[hi]!;
  }
}

/** RFC 1918, CGNAT, link-local, ULA: the default HOME_NET when none is configured (as Suricata's example). */
export const PRIVATE_NETS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'];
