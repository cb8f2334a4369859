import { describe, it, expect } from 'vitest';
import { SynFlood, SYN_FLOOD_DEFAULTS, type SynFloodConfig } from '../../../src/detect/syn-flood.js';
import type { NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const V = '10.77.0.2';

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const }; }
const spoof = (i: number) => `${1 + (i % 200)}.${(i >>> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
function syn(ts: number, src: string, dport = 80, dst = V): NetEvent {
  return { ...pt(ts), type: 'tcp_syn', src, sport: 1024 + (Math.floor(ts * 1000) % 60000), dst, dport, proto: 'tcp', size: 60 };
}
function est(ts: number, src: string, dport = 80, dst = V): NetEvent {
  return { ...pt(ts), type: 'conn_established', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 };
}

/** n SYNs evenly over [t0, t0 + dur) */
function flood(n: number, t0: number, dur: number, src: (i: number) => string = spoof, port = (_i: number) => 80): NetEvent[] {
  return Array.from({ length: n }, (_, i) => syn(t0 + (i * dur) / n, src(i), port(i)));
}

function run(events: NetEvent[], cfg: Partial<SynFloodConfig> = {}, end?: number) {
  const d = new SynFlood({ ...SYN_FLOOD_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  for (const e of events) { d.advance(e.ts, emit); d.onEvent(e, emit); }
  if (end !== undefined) { d.advance(end, emit); d.flush(end, emit); }
  return { d, alerts, first: alerts.filter((a) => !a.update), finals: alerts.filter((a) => a.update) };
}

describe('syn_flood: rate threshold (256/s over a 2 s window)', () => {
  it('stays silent at 511 uncompleted SYNs within the window', () => {
    expect(run(flood(511, 1000, 1.9), {}, 1100).alerts).toHaveLength(0);
  });

  it('alerts at the 512th SYN to one destination from spoofed random sources, without naming a source', () => {
    const { first } = run(flood(512, 1000, 1.9));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'syn_flood', dst: V, dport: 80, technique: 'T1499.001', severity: 'high' });
    expect(first[0]!.src).toBeUndefined();
    expect(first[0]!.evidence).toMatchObject({ syns_in_window: 512, completed_in_window: 0, spoofed: true });
    expect(first[0]!.summary).toMatch(/spoofed/);
  });

  it('does not add up SYNs that are more than the window apart (250/s for 10 s)', () => {
    expect(run(flood(2500, 1000, 10), {}, 1100).alerts).toHaveLength(0);
  });

  it('catches a short intense burst (3,000 SYNs in 0.6 s, hping3 --flood style)', () => {
    const { first, finals } = run(flood(3000, 1000.2, 0.6), {}, 1100);
    expect(first).toHaveLength(1);
    expect(finals).toHaveLength(1);
    const ev = finals[0]!.evidence;
    expect(ev.total_syns).toBe(3000);
    expect(Math.abs((ev.distinct_sources_est as number) - 2873) / 2873).toBeLessThan(0.06);
  });
});

describe('syn_flood: completion ratio and scans', () => {
  it('stays silent for a busy server whose handshakes complete (1,000 SYN/s, 90 % established)', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = 1000 + i / 1000, s = spoof(i);
      ev.push(syn(t, s));
      if (i % 10 !== 0) ev.push(est(t + 0.0005, s));
    }
    expect(run(ev, {}, 1100).alerts).toHaveLength(0);
  });

  it('alerts when only 10 % complete', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = 1000 + i / 1000, s = spoof(i);
      ev.push(syn(t, s));
      if (i % 10 === 0) ev.push(est(t + 0.0005, s));
    }
    expect(run(ev).first).toHaveLength(1);
  });

  it('leaves one source probing many ports (a fast port scan) to port_scan', () => {
    expect(run(flood(2000, 1000, 1, () => '203.0.113.9', (i) => 1 + i), {}, 1100).alerts).toHaveLength(0);
  });

  it('names the attacker when one source sends the flood to one port', () => {
    const { first } = run(flood(1000, 1000, 1, () => '203.0.113.9'));
    expect(first[0]).toMatchObject({ src: '203.0.113.9', dst: V, dport: 80 });
  });

  it('ignores destinations on the allow-list', () => {
    expect(run(flood(3000, 1000, 1), { allow: ['10.77.0.0/24'] }).alerts).toHaveLength(0);
  });
});

describe('syn_flood: episodes', () => {
  it('raises one alert for a long flood and a final update 10 s after it falls below the rate', () => {
    const d = new SynFlood(SYN_FLOOD_DEFAULTS);
    const alerts: Alert[] = [];
    const emit = (a: Alert) => alerts.push(a);
    for (const e of flood(30_000, 1000, 30)) { d.advance(e.ts, emit); d.onEvent(e, emit); }
    expect(alerts).toHaveLength(1);
    d.advance(1039.5, emit);
    expect(alerts).toHaveLength(1);
    d.advance(1040.1, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ kind: 'syn_flood', dst: V, dport: 80, update: true });
    expect(alerts[1]!.src).toBe(alerts[0]!.src);
    expect(alerts[1]!.evidence).toMatchObject({ final: true, peak_per_s: 1000 });
    expect(d.stats().hot).toBe(0);
  });
});

describe('syn_flood: bounded state', () => {
  it('forgets destinations whose window has emptied', () => {
    const { d } = run([syn(1000, '1.1.1.1', 80, '10.0.0.1'), syn(1000.5, '1.1.1.1', 80, '10.0.0.2'), syn(1003.2, '1.1.1.1', 80, '10.0.0.3')]);
    expect(d.stats().dests).toBe(1);
  });

  it('keeps one record for a flood from 1,000,000 distinct sources', () => {
    const d = new SynFlood(SYN_FLOOD_DEFAULTS);
    const e = syn(1000, 'x') as { src: string; ts: number; tsSec: number };
    for (let i = 0; i < 1_000_000; i++) {
      e.src = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.1`;
      e.ts = 1000 + i / 100_000; e.tsSec = Math.floor(e.ts);
      d.onEvent(e as NetEvent, () => {});
    }
    expect(d.stats().dests).toBe(1);
    expect(d.stats().hot).toBe(1);
  });

  it('keeps at most maxDests records and maxHot sketches under SYNs to 1,000,000 destinations', () => {
    const d = new SynFlood({ ...SYN_FLOOD_DEFAULTS, maxDests: 1000, maxHot: 2, rate: 1 });
    const e = syn(1000, 'x') as { dst: string };
    for (let i = 0; i < 1_000_000; i++) {
      e.dst = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.2`;
      d.onEvent(e as NetEvent, () => {});
    }
    expect(d.stats().dests).toBe(1000);
    expect(d.stats().dests_evicted).toBe(999_000);
    expect(d.stats().hot).toBeLessThanOrEqual(2);
  });
});
