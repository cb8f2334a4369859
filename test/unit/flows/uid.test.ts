import { describe, it, expect } from 'vitest';
import { UidGen, parseSeed } from '../../../src/flows/uid.js';

describe('flow uids', () => {
  it('are Zeek-like: a prefix letter and base62 characters', () => {
    const g = new UidGen('C', parseSeed('x'));
    expect(g.next()).toMatch(/^C[0-9A-Za-z]{18}$/);
  });

  it('never repeat within a run (100 000 in a row)', () => {
    const g = new UidGen('C', parseSeed(7));
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(g.next());
    expect(seen.size).toBe(100_000);
  });

  it('repeat exactly for the same seed, and differ for another seed or stream', () => {
    const a = new UidGen('C', parseSeed('sensor-1')), b = new UidGen('C', parseSeed('sensor-1'));
    const c = new UidGen('C', parseSeed('sensor-2')), d = new UidGen('C', parseSeed('sensor-1'), 1);
    const xa = [a.next(), a.next()], xb = [b.next(), b.next()], xc = [c.next(), c.next()], xd = [d.next(), d.next()];
    expect(xa).toEqual(xb);
    expect(xc).not.toContain(xa[0]);
    expect(xd).not.toContain(xa[0]);
    expect(xd).not.toContain(xa[1]);
  });
});
