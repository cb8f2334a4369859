import { describe, it, expect } from 'vitest';
import { CidrSet } from '../../src/util/cidr.js';

describe('CidrSet', () => {
  it('matches IPv4 prefixes at their edges and not outside', () => {
    const s = CidrSet.parse(['10.0.0.0/8', '192.168.1.0/24', '1.2.3.4']);
    expect(['10.0.0.0', '10.255.255.255', '192.168.1.77', '1.2.3.4'].map((a) => s.has(a))).toEqual([true, true, true, true]);
    expect(['11.0.0.0', '9.255.255.255', '192.168.2.1', '1.2.3.5'].map((a) => s.has(a))).toEqual([false, false, false, false]);
  });
  it('merges overlapping ranges and handles /0', () => {
    expect(CidrSet.parse(['10.0.0.0/8', '10.1.0.0/16']).has('10.1.2.3')).toBe(true);
    expect(CidrSet.parse(['0.0.0.0/0']).has('203.0.113.9')).toBe(true);
  });
  it('matches IPv6 prefixes', () => {
    const s = CidrSet.parse(['2001:db8::/32', 'fe80::/10']);
    expect([s.has('2001:db8:1::5'), s.has('fe80::1'), s.has('2001:db9::1'), s.has('10.0.0.1')]).toEqual([true, true, false, false]);
  });
  it('rejects malformed entries with the list name', () => {
    expect(() => CidrSet.parse(['10.0.0.0/33'], 'network.homeNet')).toThrow(/network.homeNet: "10.0.0.0\/33"/);
    expect(() => CidrSet.parse(['300.1.1.1'])).toThrow();
    expect(() => CidrSet.parse(['2001:db8::zz'])).toThrow();
  });
  it('stays fast with 200,000 entries', () => {
    const list = Array.from({ length: 200_000 }, (_, i) => `${(i >> 16) + 20}.${(i >> 8) & 255}.${i & 255}.0/28`);
    const s = CidrSet.parse(list);
    let hits = 0;
    for (let i = 0; i < 200_000; i++) if (s.has(`${(i >> 16) + 20}.${(i >> 8) & 255}.${i & 255}.${i % 32}`)) hits++;
    expect(hits).toBe(200_000 / 2);
  });
});
