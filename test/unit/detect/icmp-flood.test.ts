import { describe, it, expect } from 'vitest';
import { IcmpFlood, ICMP_FLOOD_DEFAULTS, type IcmpFloodConfig } from '../../../src/detect/icmp-flood.js';
import type { IcmpEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const A = '10.77.0.1', V = '10.77.0.2';

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const }; }
function icmp(ts: number, src: string, dst: string, type = 8, code = 0): IcmpEvent {
  return { ...pt(ts), type: 'icmp', src, sport: 0, dst, dport: 0, proto: 'icmp', size: 42, icmp_type: type, icmp_code: code };
}
/** n echo requests A → V over [t0, t0 + dur), each answered 0.1 ms later */
function pingFlood(n: number, t0: number, dur: number, answered = true): NetEvent[] {
  const out: NetEvent[] = [];
  for (let i = 0; i < n; i++) {
    const t = t0 + (i * dur) / n;
    out.push(icmp(t, A, V, 8));
    if (answered) out.push(icmp(t + 0.0001, V, A, 0));
  }
  return out;
}

function run(events: NetEvent[], cfg: Partial<IcmpFloodConfig> = {}, end?: number) {
  const d = new IcmpFlood({ ...ICMP_FLOOD_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  for (const e of events) { d.advance(e.ts, emit); d.onEvent(e, emit); }
  if (end !== undefined) { d.advance(end, emit); d.flush(end, emit); }
  return { d, alerts, first: alerts.filter((a) => !a.update), finals: alerts.filter((a) => a.update) };
}

describe('icmp_flood: rate threshold (256/s over a 2 s window)', () => {
  it('stays silent at 511 echo requests within the window', () => {
    expect(run(pingFlood(511, 1000, 1.9), {}, 1100).alerts).toHaveLength(0);
  });

  it('alerts at the 512th, naming the pinger and the victim, T1498.001', () => {
    const { first } = run(pingFlood(512, 1000, 1.9));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'icmp_flood', src: A, dst: V, technique: 'T1498.001', severity: 'high' });
    expect(first[0]!.evidence).toMatchObject({ messages_in_window: 512 });
  });

  it('stays silent at 250/s sustained for 20 s (ping -f on a slow link is below the rate)', () => {
    expect(run(pingFlood(5000, 1000, 20), {}, 1100).alerts).toHaveLength(0);
  });
});

describe('icmp_flood: replies', () => {
  it('does not take the attacker receiving the replies to its own flood for a victim', () => {
    const { first, finals } = run(pingFlood(3000, 1000.2, 0.6), {}, 1100);
    expect(first.map((a) => a.dst)).toEqual([V]);
    expect(finals.map((a) => a.dst)).toEqual([V]);
  });

  it('counts echo replies nobody asked for (smurf reflection) from many sources', () => {
    const ev = Array.from({ length: 1000 }, (_, i) => icmp(1000 + i / 1000, `198.51.${(i >>> 8) & 255}.${i & 255}`, V, 0));
    const { first } = run(ev);
    expect(first).toHaveLength(1);
    expect(first[0]!.src).toBeUndefined();
    expect(first[0]!.evidence).toMatchObject({ spoofed: true });
  });

  it('ignores destinations on the allow-list', () => {
    expect(run(pingFlood(3000, 1000, 1), { allow: [V] }).alerts).toHaveLength(0);
  });
});

describe('icmp_flood: episodes', () => {
  it('raises one alert and a final update 10 s after the flood stops', () => {
    const d = new IcmpFlood(ICMP_FLOOD_DEFAULTS);
    const alerts: Alert[] = [];
    const emit = (a: Alert) => alerts.push(a);
    for (const e of pingFlood(20_000, 1000, 20)) { d.advance(e.ts, emit); d.onEvent(e, emit); }
    expect(alerts).toHaveLength(1);
    d.advance(1029.5, emit);
    expect(alerts).toHaveLength(1);
    d.advance(1030.1, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ src: A, dst: V, update: true });
    expect(alerts[1]!.evidence).toMatchObject({ final: true, peak_per_s: 1000 });
  });
});

describe('icmp_flood: bounded state', () => {
  it('keeps one record for a flood from 1,000,000 spoofed sources (no records for the sources)', () => {
    const d = new IcmpFlood(ICMP_FLOOD_DEFAULTS);
    const e = icmp(1000, 'x', V) as { src: string; ts: number; tsSec: number };
    for (let i = 0; i < 1_000_000; i++) {
      e.src = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.1`;
      e.ts = 1000 + i / 100_000; e.tsSec = Math.floor(e.ts);
      d.onEvent(e as NetEvent, () => {});
    }
    expect(d.stats().dests).toBe(1);
  });

  it('keeps at most maxDests records under ICMP to 1,000,000 destinations', () => {
    const d = new IcmpFlood({ ...ICMP_FLOOD_DEFAULTS, maxDests: 1000 });
    const e = icmp(1000, A, 'x') as { dst: string };
    for (let i = 0; i < 1_000_000; i++) {
      e.dst = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.2`;
      d.onEvent(e as NetEvent, () => {});
    }
    expect(d.stats().dests).toBe(1000);
    expect(d.stats().dests_evicted).toBe(999_000);
  });
});
