import { describe, it, expect } from 'vitest';
import { HostSweep, HOST_SWEEP_DEFAULTS, type HostSweepConfig } from '../../../src/detect/host-sweep.js';
import type { ConnEvent, IcmpEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const A = '203.0.113.9';

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const }; }
const host = (i: number) => `10.1.${(i >>> 8) & 255}.${i & 255}`;
function rejected(ts: number, dst: string, dport = 22, src = A): NetEvent {
  return { ...pt(ts), type: 'conn_rejected', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 };
}
function echo(ts: number, dst: string, type = 8, src = A): IcmpEvent {
  return { ...pt(ts), type: 'icmp', src, sport: 0, dst, dport: 0, proto: 'icmp', size: 98, icmp_type: type, icmp_code: 0 };
}
function sf(ts: number, dst: string, dport = 443): ConnEvent {
  return {
    ...pt(ts), type: 'conn', src: A, sport: 40000, dst, dport, proto: 'tcp', size: 5000, duration: 1, orig_bytes: 500, resp_bytes: 4500,
    orig_pkts: 8, resp_pkts: 9, conn_state: 'SF', history: 'ShDdFf', reason: 'closed',
  };
}

function run(events: NetEvent[], cfg: Partial<HostSweepConfig> = {}, end?: number) {
  const d = new HostSweep({ ...HOST_SWEEP_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  for (const e of events) { d.advance(e.ts, emit); d.onEvent(e, emit); }
  if (end !== undefined) { d.advance(end, emit); d.flush(end, emit); }
  return { d, alerts, first: alerts.filter((a) => !a.update), finals: alerts.filter((a) => a.update) };
}

describe('host_sweep: one port, many hosts (25 hosts / 300 s)', () => {
  it('stays silent at 24 hosts refusing port 22', () => {
    expect(run(Array.from({ length: 24 }, (_, i) => rejected(1000 + i, host(i)))).alerts).toHaveLength(0);
  });

  it('alerts at the 25th host, naming the scanner and the port, T1046', () => {
    const { first } = run(Array.from({ length: 25 }, (_, i) => rejected(1000 + i, host(i))));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'host_sweep', src: A, dport: 22, technique: 'T1046' });
    expect(first[0]!.dst).toBeUndefined();
    expect(first[0]!.evidence).toMatchObject({ swept: 'tcp/22', distinct_hosts: 25 });
  });

  it('does not alert when the 25 hosts are spread over more than 300 s', () => {
    expect(run(Array.from({ length: 25 }, (_, i) => rejected(1000 + i * 12.6, host(i)))).alerts).toHaveLength(0);
  });

  it('never counts successful connections (a client of 100 web servers)', () => {
    expect(run(Array.from({ length: 100 }, (_, i) => sf(1000 + i, host(i))), {}, 3000).alerts).toHaveLength(0);
  });

  it('ignores sources on the allow-list', () => {
    expect(run(Array.from({ length: 40 }, (_, i) => rejected(1000 + i, host(i))), { allow: [A] }).alerts).toHaveLength(0);
  });
});

describe('host_sweep: ICMP sweeps (T1018)', () => {
  it('alerts at echo requests to 25 hosts, not 24', () => {
    expect(run(Array.from({ length: 24 }, (_, i) => echo(1000 + i * 0.1, host(i)))).alerts).toHaveLength(0);
    const { first } = run(Array.from({ length: 25 }, (_, i) => echo(1000 + i * 0.1, host(i))));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ src: A, technique: 'T1018' });
    expect(first[0]!.dport).toBeUndefined();
  });

  it('does not count echo replies (the hosts answering a pinger)', () => {
    expect(run(Array.from({ length: 40 }, (_, i) => echo(1000 + i, A, 0, host(i)))).alerts).toHaveLength(0);
  });
});

describe('host_sweep: one alert per scanner episode', () => {
  it('folds sweeps of further ports into the first alert and lists them in the final update', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 40; i++) {
      ev.push(echo(1000 + i * 0.1, host(i)));
      ev.push(rejected(1000 + i * 0.1, host(i), 443));
      ev.push(rejected(1000 + i * 0.1, host(i), 80));
    }
    const { first, finals } = run(ev, {}, 1010);
    expect(first).toHaveLength(1);
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ src: A, update: true, technique: first[0]!.technique });
    const sweeps = finals[0]!.evidence.sweeps as Record<string, number>;
    expect(Object.keys(sweeps).sort()).toEqual(['icmp', 'tcp/443', 'tcp/80']);
    expect(finals[0]!.evidence.distinct_hosts_est).toBe(40);
    expect(finals[0]!.evidence.probes).toBe(120);
  });

  it('ends the episode after 900 s without a probe', () => {
    const d = new HostSweep(HOST_SWEEP_DEFAULTS);
    const alerts: Alert[] = [];
    const emit = (a: Alert) => alerts.push(a);
    for (let i = 0; i < 30; i++) d.onEvent(rejected(1000 + i, host(i)), emit);
    d.advance(1029 + 899, emit);
    expect(alerts).toHaveLength(1);
    d.advance(1029 + 901, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ update: true, src: A });
  });

  it('estimates hosts past the exact set (a /16 sweep)', () => {
    const ev = Array.from({ length: 20_000 }, (_, i) => echo(1000 + i * 0.001, host(i)));
    const { finals } = run(ev, {}, 1100);
    const est = finals[0]!.evidence.distinct_hosts_est as number;
    expect(Math.abs(est - 20_000) / 20_000).toBeLessThan(0.06);
  });
});

describe('host_sweep: bounded state', () => {
  it('keeps at most maxKeys records under 1,000,000 distinct sources (two probes each), counting evictions', () => {
    const d = new HostSweep({ ...HOST_SWEEP_DEFAULTS, maxKeys: 1000 });
    const e = rejected(1000, '10.0.0.1') as { src: string; dst: string };
    for (let i = 0; i < 1_000_000; i++) {
      e.src = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.1`;
      e.dst = '10.0.0.1'; d.onEvent(e as NetEvent, () => {});
      e.dst = '10.0.0.2'; d.onEvent(e as NetEvent, () => {});
    }
    expect(d.stats().keys).toBe(1000);
    expect(d.stats().keys_evicted).toBe(999_000);
  });

  it('creates (almost) no record for one probe per source (a spoofed flood); a sweep still alerts at its 25th host', () => {
    const d = new HostSweep({ ...HOST_SWEEP_DEFAULTS, maxKeys: 1000 });
    const alerts: Alert[] = [];
    const e = rejected(1000, '10.0.0.1') as { src: string };
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      e.src = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.1`;
      d.onEvent(e as NetEvent, (a) => alerts.push(a));
      if (i >= 1000 && i < 1025) d.onEvent(rejected(1000, host(i - 1000)), (a) => alerts.push(a)); // a sweep amid the flood
    }
    const st = d.stats();
    expect(st.keys + st.keys_evicted).toBeLessThan(N * 0.02);
    expect(st.first_probes_filtered).toBeGreaterThan(N * 0.98);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ src: A, evidence: { distinct_hosts: 25 } });
  });

  it('restarts a record that gathered 64 hosts too slowly to alert', () => {
    const { alerts, d } = run(Array.from({ length: 70 }, (_, i) => rejected(1000 + i * 13, host(i))));
    expect(alerts).toHaveLength(0);
    expect(d.stats().host_sets_reset).toBe(1);
  });
});
