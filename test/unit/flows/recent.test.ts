import { describe, expect, it } from 'vitest';
import { RecentFlows, type FlowRef } from '../../../src/flows/recent.js';

const ref = (i: number, orig: string, resp: string, dport = 80, ts = i): FlowRef => ({ uid: `C${i}`, community_id: `1:${i}`, orig, resp, dport, ts });

describe('RecentFlows', () => {
  it('names only flows that began by the end of the alert\'s evidence (+1 s): a scan\'s final update does not name the brute force that followed', () => {
    const r = new RecentFlows();
    for (let i = 1; i <= 5; i++) r.note(ref(i, 'x', 'v', 1000 + i, 100 + i * 0.01)); // the scan's probes
    for (let i = 6; i <= 9; i++) r.note(ref(i, 'x', 'v', 22, 160 + i)); // ssh brute force a minute later
    expect(r.lookup({ src: 'x', dst: 'v', ts_last: 100.05 }).map((f) => f.uid)).toEqual(['C5', 'C4', 'C3', 'C2']); // C1 left the 8-flow ring
    expect(r.lookup({ src: 'x', dst: 'v' }).map((f) => f.uid)).toEqual(['C9', 'C8', 'C7', 'C6', 'C5']); // no span: newest
  });

  it('forgets the oldest address first at the cap, counts it, and keeps the newer ones', () => {
    const r = new RecentFlows(3);
    r.note(ref(1, 'a', 'v'));
    r.note(ref(2, 'b', 'v'));
    expect(r.size).toBe(3); // a, v, b
    r.note(ref(3, 'c', 'v')); // c is new: a (the oldest) goes
    expect(r.size).toBe(3);
    expect(r.evicted).toBe(1);
    expect(r.lookup({ src: 'a' })).toEqual([]);
    expect(r.lookup({ src: 'c', dst: 'v' }).map((f) => f.uid)).toEqual(['C3']);
    // v keeps its flows while it is not the oldest: adding d evicts v (inserted 2nd), then e evicts b
    r.note(ref(4, 'd', 'w'));
    expect(r.evicted).toBe(3); // v and b made room for d and w
    expect(r.lookup({ dst: 'v' })).toEqual([]);
    expect(r.lookup({ src: 'b' })).toEqual([]);
    expect(r.lookup({ src: 'c' }).map((f) => f.uid)).toEqual(['C3']);
    expect(r.lookup({ src: 'd', dst: 'w' }).map((f) => f.uid)).toEqual(['C4']);
  });

  it('forgets exactly what a Map in insertion order would, over repeated and new addresses', () => {
    // the reference: the Map-order eviction this ring replaced (same order, without walking deleted slots)
    const cap = 50;
    const model = new Map<string, string[]>();
    let modelEvicted = 0;
    const push = (addr: string, uid: string): void => {
      let ring = model.get(addr);
      if (ring === undefined) {
        if (model.size >= cap) { model.delete(model.keys().next().value as string); modelEvicted++; }
        model.set(addr, (ring = []));
      }
      if (ring.length >= 8) ring.shift();
      ring.push(uid);
    };
    const r = new RecentFlows(cap);
    let seed = 7;
    const rnd = (m: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % m; };
    for (let i = 0; i < 20_000; i++) {
      // a few busy hosts among many one-off sources
      const orig = rnd(4) === 0 ? `busy${rnd(5)}` : `s${rnd(400)}`;
      const resp = `d${rnd(30)}`;
      r.note(ref(i, orig, resp));
      push(orig, `C${i}`);
      if (resp !== orig) push(resp, `C${i}`);
    }
    expect(r.size).toBe(model.size);
    expect(r.evicted).toBe(modelEvicted);
    expect(modelEvicted).toBeGreaterThan(1000);
    for (const [addr, uids] of model) {
      const newest = uids[uids.length - 1]!;
      const got = [...r.lookup({ src: addr }), ...r.lookup({ dst: addr })].map((f) => f.uid);
      expect(got).toContain(newest);
    }
    for (let k = 0; k < 400; k++) if (!model.has(`s${k}`)) expect(r.lookup({ src: `s${k}` })).toEqual([]);
  });

  it('refuses a cap that cannot hold one address', () => {
    expect(() => new RecentFlows(0)).toThrow(/positive integer/);
  });
});
