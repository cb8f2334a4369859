/**
 * Community ID v1 (src/flows/community-id.ts) against the spec's published
 * vectors and against node:crypto's SHA-1 on random tuples.
 *
 * Vectors: corelight/community-id-spec, baseline/README.md, table
 * "Default settings" (seed 0, base64), commit b1fe530. For ICMP the table's
 * "ports" are the message's type and code.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { communityId, icmpCommunityId, icmpPorts } from '../../../src/flows/community-id.js';
import { parseIpv4 } from '../../../src/decode/addr.js';

/** address text → the decoder's words (IPv4: word 0) */
function words(addr: string): [number, number, number, number, number] {
  if (!addr.includes(':')) return [4, parseIpv4(addr), 0, 0, 0];
  const [l, r] = addr.split('::');
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const g = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right].map((x) => parseInt(x, 16));
  return [6, ((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0];
}

function cid(proto: number, src: string, dst: string, sport: number, dport: number): string {
  const [v, s0, s1, s2, s3] = words(src);
  const [, d0, d1, d2, d3] = words(dst);
  if (proto === 1 || proto === 58) return icmpCommunityId(proto === 58, s0, s1, s2, s3, d0, d1, d2, d3, sport, dport);
  return communityId(v, proto, s0, s1, s2, s3, sport, d0, d1, d2, d3, dport);
}

// [proto, src, dst, sport, dport, community id] from the spec's "Default settings" table
const SPEC_VECTORS: Array<[number, string, string, number, number, string]> = [
  [6, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:wCb3OG7yAFWelaUydu0D+125CLM='],
  [6, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:wCb3OG7yAFWelaUydu0D+125CLM='],
  [17, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg='],
  [17, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg='],
  [132, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8='],
  [132, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8='],
  [1, '1.2.3.4', '5.6.7.8', 8, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0='],
  [1, '5.6.7.8', '1.2.3.4', 0, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0='],
  [1, '1.2.3.4', '5.6.7.8', 11, 0, '1:f/YiSyWqczrTgfUCZlBUnvHRcPk='],
  [58, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 128, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo='],
  [58, 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 129, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo='],
  [58, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 146, 0, '1:fYC8+pz24E+EhANP1EZhpX0Dw10='],
  // baseline/baseline_deflt.json (same commit): the spec's TCP example and IPv6 TCP
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
];

describe('Community ID v1', () => {
  it.each(SPEC_VECTORS)('proto %i %s → %s (%i/%i) hashes to the spec vector', (proto, src, dst, sp, dp, want) => {
    expect(cid(proto, src, dst, sp, dp)).toBe(want);
  });

  it('ICMP request/reply types map to their counterpart, other types are one-way (type, code)', () => {
    expect(icmpPorts(false, 8, 0)).toEqual([8, 0, false]);
    expect(icmpPorts(false, 0, 0)).toEqual([0, 8, false]);
    expect(icmpPorts(false, 3, 3)).toEqual([3, 3, true]);
    expect(icmpPorts(true, 135, 0)).toEqual([135, 136, false]);
    expect(icmpPorts(true, 1, 4)).toEqual([1, 4, true]);
  });

  it('the one-block SHA-1 equals node:crypto on random IPv4 and IPv6 tuples, either direction', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const port = fc.integer({ min: 0, max: 65535 });
    fc.assert(fc.property(fc.boolean(), fc.array(u32, { minLength: 8, maxLength: 8 }), port, port, fc.integer({ min: 0, max: 255 }),
      (v6, w, sp, dp, proto) => {
        const ver = v6 ? 6 : 4;
        const a = v6 ? w.slice(0, 4) : [w[0]!, 0, 0, 0];
        const b = v6 ? w.slice(4) : [w[4]!, 0, 0, 0];
        const got = communityId(ver, proto, a[0]!, a[1]!, a[2]!, a[3]!, sp, b[0]!, b[1]!, b[2]!, b[3]!, dp);
        const back = communityId(ver, proto, b[0]!, b[1]!, b[2]!, b[3]!, dp, a[0]!, a[1]!, a[2]!, a[3]!, sp);
        // reference: the spec's construction with node:crypto
        const n = v6 ? 4 : 1;
        const swap = (() => { for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! > b[i]!; return sp > dp; })();
        const [x, y, p1, p2] = swap ? [b, a, dp, sp] : [a, b, sp, dp];
        const buf = Buffer.alloc(2 + 8 * n + 6);
        let o = 2;
        for (let i = 0; i < n; i++) o = buf.writeUInt32BE(x[i]!, o);
        for (let i = 0; i < n; i++) o = buf.writeUInt32BE(y[i]!, o);
        o = buf.writeUInt8(proto, o); o = buf.writeUInt8(0, o);
        o = buf.writeUInt16BE(p1, o); buf.writeUInt16BE(p2, o);
        const want = '1:' + createHash('sha1').update(buf).digest('base64');
        return got === want && back === want;
      }), { numRuns: 500 });
  });
});
