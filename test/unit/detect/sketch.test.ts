import { describe, it, expect } from 'vitest';
import { HyperLogLog, TopK, PortSet, LruMap, hash2 } from '../../../src/detect/sketch.js';

describe('HyperLogLog', () => {
  it('estimates an empty set as 0 and a small set almost exactly (linear counting)', () => {
    const h = new HyperLogLog(10);
    expect(h.estimate()).toBe(0);
    for (let i = 0; i < 100; i++) h.add(`10.0.0.${i}`);
    expect(Math.abs(h.estimate() - 100)).toBeLessThanOrEqual(3);
  });

  it('does not count repeats', () => {
    const h = new HyperLogLog(10);
    for (let i = 0; i < 20; i++) h.add(`host-${i}`);
    const once = h.estimate();
    for (let r = 0; r < 50; r++) for (let i = 0; i < 20; i++) h.add(`host-${i}`);
    expect(h.estimate()).toBe(once);
    expect(Math.abs(once - 20)).toBeLessThanOrEqual(1);
  });

  it('estimates 200,000 distinct addresses within 5 % in 1 KiB', () => {
    const h = new HyperLogLog(10);
    for (let i = 0; i < 200_000; i++) h.add(`${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.${i % 7}`);
    expect(h.bytes).toBe(1024);
    expect(Math.abs(h.estimate() - 200_000) / 200_000).toBeLessThan(0.05);
  });

  it('merges two sketches into the estimate of the union', () => {
    const a = new HyperLogLog(10), b = new HyperLogLog(10);
    for (let i = 0; i < 30_000; i++) a.add(`a${i}`);
    for (let i = 15_000; i < 45_000; i++) b.add(`a${i}`);
    a.merge(b);
    expect(Math.abs(a.estimate() - 45_000) / 45_000).toBeLessThan(0.06);
    expect(() => a.merge(new HyperLogLog(8))).toThrow();
  });

  it('counts items known only by one 32-bit hash (addHash32)', () => {
    const h = new HyperLogLog(10);
    for (let i = 0; i < 50_000; i++) h.addHash32(hash2(`x${i}`)[0]);
    expect(Math.abs(h.estimate() - 50_000) / 50_000).toBeLessThan(0.06);
  });

  it('rejects a precision outside 4..16', () => {
    expect(() => new HyperLogLog(3)).toThrow(RangeError);
    expect(() => new HyperLogLog(17)).toThrow(RangeError);
  });
});

describe('TopK (Misra–Gries)', () => {
  it('names an item holding more than half of the stream among many distinct ones', () => {
    const t = new TopK(8);
    for (let i = 0; i < 10_000; i++) { t.add('attacker'); t.add(`spoof-${i}`); t.add('attacker'); }
    const d = t.dominant(0.5);
    expect(d?.item).toBe('attacker');
    expect(t.n).toBe(30_000);
  });

  it('names no dominant item when every item is distinct, and keeps at most k counters', () => {
    const t = new TopK(4);
    for (let i = 0; i < 100_000; i++) t.add(`s${i}`);
    expect(t.dominant(0.5)).toBeNull();
    expect(t.top().length).toBeLessThanOrEqual(4);
  });
});

describe('PortSet', () => {
  it('counts distinct ports exactly, before and after switching to the bitset', () => {
    const s = new PortSet();
    for (let p = 0; p < 50; p++) { expect(s.add(p)).toBe(true); expect(s.add(p)).toBe(false); }
    s.upgrade();
    expect(s.isBitset).toBe(true);
    expect(s.size).toBe(50);
    expect(s.has(49)).toBe(true);
    expect(s.has(50)).toBe(false);
    for (let p = 0; p < 65536; p++) s.add(p);
    expect(s.size).toBe(65536);
  });
});

describe('LruMap', () => {
  it('evicts the least recently touched entry at the cap, hands it to the callback and counts it', () => {
    const gone: string[] = [];
    const m = new LruMap<string, number>(2, (k) => gone.push(k));
    m.set('a', 1); m.set('b', 2);
    m.touch('a', 1);
    m.set('c', 3);
    expect(gone).toEqual(['b']);
    expect(m.evicted).toBe(1);
    expect([...m.entries()].map(([k]) => k)).toEqual(['a', 'c']);
  });
});
