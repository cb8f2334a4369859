import { describe, it, expect } from 'vitest';
import { Admission, hash32, hash32m, mixHash } from '../../../src/detect/bounded-state.js';

const key = (i: number) => hash32(`198.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`);

describe('Admission: a key is admitted at its second occurrence', () => {
  it('first offer gives a slot, the second says "seen"; take() returns that slot once', () => {
    const a = new Admission(1000);
    const h = key(1);
    const slot = a.offer(h);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(slot).toBeLessThan(a.slots);
    expect(a.offer(h)).toBe(-1);
    expect(a.take(h)).toBe(slot);
    expect(a.take(h)).toBe(-1); // released
    expect(a.offer(h)).toBe(-1); // still seen
    expect(a).toMatchObject({ filtered: 1, admitted: 2 });
  });

  it('remembers a key for at least `capacity` other new keys, however fast they come', () => {
    const cap = 5000;
    const a = new Admission(cap);
    const h = key(0);
    a.offer(h);
    for (let i = 1; i <= cap; i++) a.offer(key(i));
    expect(a.offer(h)).toBe(-1);
    // and forgets it after 2 × capacity recorded keys (then it is a first occurrence again)
    const b = new Admission(cap);
    b.offer(h);
    for (let i = 1; i <= 3 * cap; i++) b.offer(key(i));
    expect(b.offer(h)).toBeGreaterThanOrEqual(0);
  });

  it('says "seen" for a never-offered key in about 1 % of cases (a key admitted one occurrence early)', () => {
    const a = new Admission(10_000);
    const N = 200_000;
    let seen = 0;
    for (let i = 0; i < N; i++) if (a.offer(key(i)) < 0) seen++;
    expect(seen / N).toBeLessThan(0.02);
  });

  it('a first occurrence overwritten in its slot loses only the seeding, never the admission', () => {
    const a = new Admission(1024);
    const h = key(7);
    const slot = a.offer(h);
    // find another key for the same slot
    let other = -1;
    for (let i = 8; other < 0; i++) { const k = key(i); const s = a.offer(k); if (s === slot) other = k; }
    expect(a.offer(h)).toBe(-1);
    expect(a.take(h)).toBe(-1);
    expect(a.take(other)).toBe(slot);
  });
});

describe('hash helpers', () => {
  it('hash32m equals hash32 (memoised for the last two strings)', () => {
    for (const s of ['10.0.0.1', '10.0.0.2', '10.0.0.1', 'x', '', '10.0.0.2']) expect(hash32m(s)).toBe(hash32(s));
  });
  it('mixHash is order-sensitive', () => {
    expect(mixHash(hash32('a'), hash32('b'))).not.toBe(mixHash(hash32('b'), hash32('a')));
  });
});
