import { describe, it, expect } from 'vitest';
import { AlertDedup } from '../../../src/alerts/dedup.js';
import type { Alert } from '../../../src/alerts/types.js';

function a(ts: number, over: Partial<Alert> = {}): Alert {
  return {
    kind: 'port_scan',
    severity: 'medium',
    confidence: 0.8,
    src: '10.0.0.1',
    dst: '10.0.0.2',
    ts,
    ts_first: ts - 5,
    ts_last: ts,
    summary: `scan at ${ts}`,
    evidence: {},
    ...over,
  };
}

describe('AlertDedup', () => {
  it('suppresses the same (kind, src, dst) just inside the interval and passes it at exactly the interval', () => {
    const d = new AlertDedup({ interval: 60 });
    expect(d.offer(a(1000))).not.toBeNull();
    expect(d.offer(a(1059.999999))).toBeNull();
    expect(d.offer(a(1060))).not.toBeNull(); // window [1000, 1060) is over
    expect(d.offer(a(1119.5))).toBeNull(); // new window started at 1060
    expect(d.stats()).toMatchObject({ offered: 4, passed: 2, suppressed: 2 });
  });

  it('decides on packet time, not the wall clock', () => {
    const d = new AlertDedup({ interval: 3600 });
    expect(d.offer(a(0))).not.toBeNull();
    expect(d.offer(a(3599))).toBeNull(); // an hour of packet time, milliseconds of wall time
    expect(d.offer(a(3600))).not.toBeNull();
  });

  it('keys on src and dst as well as kind', () => {
    const d = new AlertDedup({ interval: 60 });
    expect(d.offer(a(0))).not.toBeNull();
    expect(d.offer(a(1, { dst: '10.0.0.3' }))).not.toBeNull();
    expect(d.offer(a(2, { src: '10.0.0.9' }))).not.toBeNull();
    expect(d.offer(a(3, { kind: 'syn_flood' }))).not.toBeNull();
    expect(d.offer(a(4, { src: undefined }))).not.toBeNull();
    expect(d.offer(a(5, { src: undefined }))).toBeNull();
  });

  it('flush() folds suppressed alerts into an update of the first: count, ts_last, max severity, update: true', () => {
    const d = new AlertDedup({ interval: 60 });
    const first = a(100);
    const passed = d.offer(first)!;
    d.offer(a(110, { count: 3 }));
    d.offer(a(120, { severity: 'high', ts_first: 90 }));
    const [u, ...rest] = d.flush();
    expect(rest).toHaveLength(0);
    expect(u).toEqual({
      ...first,
      id: passed.id,
      count: 5,
      ts: 120,
      ts_first: 90,
      ts_last: 120,
      severity: 'high',
      update: true,
    });
    expect(first.update).toBeUndefined(); // the passed alert is not mutated
  });

  it('flush() reports a group only when it folded something new, with a cumulative count', () => {
    const d = new AlertDedup({ interval: 60 });
    d.offer(a(0));
    expect(d.flush()).toEqual([]);
    d.offer(a(1));
    expect(d.flush().map((u) => u.count)).toEqual([2]);
    expect(d.flush()).toEqual([]);
    d.offer(a(2));
    expect(d.flush().map((u) => u.count)).toEqual([3]);
  });

  it('keeps the update of a window that ended when the next alert for the key passes', () => {
    const d = new AlertDedup({ interval: 10 });
    d.offer(a(0));
    d.offer(a(5));
    expect(d.offer(a(10))).not.toBeNull();
    const ups = d.flush();
    expect(ups).toHaveLength(1);
    expect(ups[0]).toMatchObject({ count: 2, ts_last: 5, update: true, summary: 'scan at 0' });
  });

  it('per-kind overrides win over the default, and 0 disables suppression for that kind', () => {
    const d = new AlertDedup({ interval: 3600, perKind: { ssh_bruteforce: 5, dns_tunnel: 0 } });
    d.offer(a(0, { kind: 'ssh_bruteforce' }));
    expect(d.offer(a(4.9, { kind: 'ssh_bruteforce' }))).toBeNull();
    expect(d.offer(a(5, { kind: 'ssh_bruteforce' }))).not.toBeNull();
    expect(d.offer(a(0, { kind: 'dns_tunnel' }))).not.toBeNull();
    expect(d.offer(a(0, { kind: 'dns_tunnel' }))).not.toBeNull();
    expect(d.stats().entries).toBe(1);
    expect(new AlertDedup({ interval: 0 }).offer(a(0))).not.toBeNull();
  });

  it('bounds its state: evicts the oldest window, counts it, and still reports its folded alerts', () => {
    const d = new AlertDedup({ interval: 60, maxEntries: 2 });
    d.offer(a(0, { dst: 'A' }));
    d.offer(a(1, { dst: 'A' })); // folded into A
    d.offer(a(2, { dst: 'B' }));
    d.offer(a(3, { dst: 'C' })); // evicts A
    expect(d.stats()).toMatchObject({ entries: 2, evictions: 1 });
    expect(d.offer(a(4, { dst: 'A' }))).not.toBeNull(); // A forgotten: passes again
    const ups = d.flush();
    expect(ups.map((u) => [u.dst, u.count])).toEqual([['A', 2]]);
  });

  it('flush(now) forgets windows that ended by that packet time', () => {
    const d = new AlertDedup({ interval: 10 });
    d.offer(a(0));
    d.offer(a(1, { dst: 'X' }));
    d.offer(a(3)); // folded
    expect(d.flush(10.5).map((u) => u.count)).toEqual([2]);
    expect(d.stats().entries).toBe(1); // X (start 1) ends at 11
    expect(d.flush(11)).toEqual([]);
    expect(d.stats().entries).toBe(0);
  });

  it('flush(Infinity) at end of input reports and forgets everything without breaking later offers', () => {
    const d = new AlertDedup({ interval: 10 });
    d.offer(a(0));
    d.offer(a(1));
    expect(d.flush(Infinity).map((u) => u.count)).toEqual([2]);
    expect(d.stats().entries).toBe(0);
    expect(d.offer(a(2))).not.toBeNull();
    expect(d.offer(a(3))).toBeNull(); // the clock did not jump to Infinity
  });

  it('treats an out-of-order (earlier) alert as inside the window', () => {
    const d = new AlertDedup({ interval: 10 });
    d.offer(a(100));
    expect(d.offer(a(95))).toBeNull();
    expect(d.flush()[0]).toMatchObject({ count: 2, ts: 100, ts_first: 90 });
  });
});

describe('AlertDedup: alert ids', () => {
  it('gives every passing alert its own id and every update the id of the alert it updates', () => {
    const d = new AlertDedup({ interval: 60, perKind: { beaconing: 0 } });
    const x = d.offer(a(0))!, y = d.offer(a(1, { dst: '10.0.0.3' }))!;
    const z = d.offer(a(2, { kind: 'beaconing' }))!;
    d.offer(a(5)); d.offer(a(6, { dst: '10.0.0.3' }));
    const ids = [x.id, y.id, z.id];
    expect(ids.every((i) => typeof i === 'string' && /^A[0-9A-Za-z]{18}$/.test(i))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    const ups = d.flush();
    expect(ups.map((u) => [u.update, u.id])).toEqual([[true, x.id], [true, y.id]]);
    // a later window of the same key is a new alert: a new id
    const w = d.offer(a(100))!;
    expect(ids).not.toContain(w.id);
  });
});

describe('AlertDedup: a detector\'s own update of an attack', () => {
  const base = (over: Partial<Alert>): Alert => ({
    kind: 'port_scan', severity: 'medium', confidence: 0.6, src: '10.0.0.1', dst: '10.0.0.2', ts: 100, ts_first: 100, ts_last: 100,
    summary: 'scan: 7 privileged ports', evidence: { ports: 7 }, ...over,
  });
  it('a detector\'s own update after the suppression window is over still carries the id of the alert it updates', () => {
    const d = new AlertDedup({ interval: 60 });
    const first = d.offer(a(1000))!;
    expect(d.offer(a(1001))).toBeNull(); // a repeat: suppressed, its id never goes out
    const late = d.offer(a(1500, { update: true, summary: 'final' }))!; // scan episode ended 500 s later
    expect(late).not.toBeNull();
    expect(late.id).toBe(first.id);
    expect(d.offer(a(1600, { update: true, dst: '10.0.0.9' }))!.id).not.toBe(first.id); // another victim, another attack
    const again = d.offer(a(5000))!; // a new attack by the same pair: a new id, and its update carries that one
    expect(again.id).not.toBe(first.id);
    expect(d.offer(a(5200, { update: true }))!.id).toBe(again.id);
    // no suppression at all for the kind: the same holds
    const z = new AlertDedup({ perKind: { port_scan: 0 } });
    const f = z.offer(a(10))!;
    expect(z.offer(a(20, { update: true }))!.id).toBe(f.id);
  });

  it('carries the update\'s summary and evidence into the folded alert without counting it as a repeat', () => {
    const d = new AlertDedup({ interval: 3600 });
    expect(d.offer(base({}))).not.toBeNull();
    expect(d.offer(base({ ts: 160, ts_last: 160, update: true, summary: 'scan ended: 1000 ports', evidence: { ports: 1000 } }))).toBeNull();
    const [u] = d.flush(200);
    expect(u).toMatchObject({ summary: 'scan ended: 1000 ports', evidence: { ports: 1000 }, count: 1, ts_last: 160, update: true });
  });
  it('keys an alert without a victim by its port, so sweeps of two ports are two alerts', () => {
    const d = new AlertDedup({ interval: 3600 });
    const sweep = (dport: number): Alert => ({ ...base({}), kind: 'host_sweep', dst: undefined, dport } as Alert);
    expect(d.offer(sweep(22))).not.toBeNull();
    expect(d.offer(sweep(445))).not.toBeNull();
    expect(d.offer(sweep(22))).toBeNull();
  });
});
