import { describe, it, expect } from 'vitest';
import { SlowScan, SLOW_SCAN_DEFAULTS, TARGETS, type SlowScanConfig } from '../../../src/detect/slow-scan.js';
import type { ConnEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const A = '203.0.113.9', V = '10.0.0.5';

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const }; }
function rejected(ts: number, dport: number, src = A, dst = V): NetEvent {
  return { ...pt(ts), type: 'conn_rejected', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 };
}
function unanswered(ts: number, dport: number, src = A, dst = V): ConnEvent {
  return {
    ...pt(ts), type: 'conn', src, sport: 40000, dst, dport, proto: 'tcp', size: 0, duration: 0,
    orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, resp_pkts: 0, conn_state: 'S0', history: 'S', missed_bytes: 0, reason: 'timeout',
  };
}

function make(cfg: Partial<SlowScanConfig> = {}) {
  const d = new SlowScan({ ...SLOW_SCAN_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  const feed = (evs: Iterable<NetEvent>) => { for (const e of evs) { d.advance(e.ts, emit); d.onEvent(e, emit); } };
  return { d, alerts, emit, feed, first: () => alerts.filter((a) => !a.update), finals: () => alerts.filter((a) => a.update) };
}

/** n refused ports of V, `gap` s apart (nmap -T1: 15 s, -T0: 300 s) */
const ports = (n: number, gap: number, t0 = 1000, src = A) => Array.from({ length: n }, (_, i) => rejected(t0 + i * gap, 1 + i * 7, src));

describe('slow_scan: the triggers', () => {
  it('nmap -T1 pace: silent at 9 ports, alerts at the 10th (vertical), naming scanner and victim', () => {
    const s = make();
    const evs = ports(12, 15);
    s.feed(evs.slice(0, 9));
    expect(s.alerts).toHaveLength(0);
    s.feed([evs[9]!]);
    expect(s.first()).toHaveLength(1);
    expect(s.first()[0]).toMatchObject({ kind: 'slow_scan', src: A, dst: V, technique: 'T1046', ts: 1000 + 9 * 15 });
    expect(s.first()[0]!.evidence).toMatchObject({ distinct_targets: 10, trigger: 'vertical', mean_gap_s: 15 });
    s.feed(evs.slice(10));
    expect(s.first()).toHaveLength(1); // one alert per episode
    s.d.flush(2000, s.emit);
    expect(s.finals()).toHaveLength(1);
    expect(s.finals()[0]!.evidence).toMatchObject({ distinct_targets: 12, final: true });
  });

  it('nmap -T0 pace (5 min per probe): 10 ports over 45 minutes still alert', () => {
    const s = make();
    s.feed(ports(10, 300));
    expect(s.first()).toHaveLength(1);
    expect(s.first()[0]!.evidence).toMatchObject({ mean_gap_s: 300 });
  });

  it('leaves fast scans to port_scan: 30 ports at 0.4 s (nmap -T2) raise nothing here', () => {
    const s = make();
    s.feed(ports(30, 0.4));
    s.d.flush(2000, s.emit);
    expect(s.alerts).toHaveLength(0);
  });

  it('the gap threshold: mean gap 4.9 s is silent, 5 s alerts', () => {
    const a = make(); a.feed(ports(10, 4.9));
    const b = make(); b.feed(ports(10, 5));
    expect(a.alerts).toHaveLength(0);
    expect(b.first()).toHaveLength(1);
  });

  it('horizontal: 20 hosts on one port, slowly, alert; 19 do not; scattered targets (1 port per host) do not', () => {
    const hosts = (n: number) => Array.from({ length: n }, (_, i) => unanswered(1000 + i * 60, 22, A, `10.0.1.${i + 1}`));
    const a = make(); a.feed(hosts(19));
    const b = make(); b.feed(hosts(20));
    expect(a.alerts).toHaveLength(0);
    expect(b.first()).toHaveLength(1);
    expect(b.first()[0]).toMatchObject({ src: A, dport: 22 });
    expect(b.first()[0]!.dst).toBeUndefined();
    expect(b.first()[0]!.evidence).toMatchObject({ trigger: 'horizontal', distinct_hosts: 20 });
    const scattered = make();
    scattered.feed(Array.from({ length: 24 }, (_, i) => unanswered(1000 + i * 60, 1000 + i, A, `10.0.2.${i + 1}`)));
    expect(scattered.alerts).toHaveLength(0);
  });

  it('a repeated target counts once; successful connections are not probes', () => {
    const s = make();
    s.feed(Array.from({ length: 40 }, (_, i) => rejected(1000 + i * 20, 80)));
    const ok: ConnEvent = { ...unanswered(2000, 443), conn_state: 'SF', history: 'ShADadFf', orig_bytes: 500, resp_bytes: 900, orig_pkts: 8, resp_pkts: 8 };
    s.feed(Array.from({ length: 20 }, (_, i) => ({ ...ok, ...pt(3000 + i * 30), dport: 443 + i })));
    expect(s.alerts).toHaveLength(0);
    expect(s.d.stats().probes).toBe(40);
  });

  it('the horizon: a source idle past it starts over (its earlier targets are forgotten)', () => {
    const s = make({ horizon: 3600 });
    s.feed(ports(6, 60));
    s.feed(ports(4, 60, 1000 + 6 * 60 + 3601));
    expect(s.alerts).toHaveLength(0);
    const t = make({ horizon: 7200 });
    t.feed(ports(6, 60));
    t.feed(ports(4, 60, 1000 + 6 * 60 + 3601).map((e) => ({ ...e, dport: (e as { dport: number }).dport + 1000 })));
    expect(t.first()).toHaveLength(1);
  });

  it('allow-listed sources are never judged', () => {
    const s = make({ allow: ['203.0.113.0/24'] });
    s.feed(ports(12, 15));
    expect(s.alerts).toHaveLength(0);
  });
});

describe('slow_scan: fixed memory whatever the number of sources', () => {
  it('a million one-probe (spoofed) sources leave the table size unchanged, and a -T1 scanner among them is still caught', () => {
    const s = make({ maxSources: 4096 });
    const bytes = s.d.stats().state_bytes;
    // 1,000,000 sources over 1 h (278/s) each refused once, a -T1 scanner (15 s) interleaved
    const N = 1_000_000, span = 3600;
    let scan = 0;
    function* stream(): Generator<NetEvent> {
      for (let i = 0; i < N; i++) {
        const t = 1000 + (i * span) / N;
        while (1000 + scan * 15 <= t && scan < 12) { yield rejected(1000 + scan * 15, 100 + scan); scan++; }
        yield rejected(t, 80, `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`);
      }
    }
    s.feed(stream());
    const st = s.d.stats();
    expect(st.state_bytes).toBe(bytes);
    expect(st.capacity).toBe(4096);
    expect(st.sources).toBeLessThanOrEqual(4096);
    expect(st.first_probes_filtered).toBeGreaterThan(990_000);
    expect(s.first().map((a) => a.src)).toEqual([A]);
  }, 60_000);

  it('a flood of sources with two probes each churns the table, yet a scanner that gathered targets keeps its record', () => {
    const s = make({ maxSources: 1024 });
    // the scanner has 3 targets when the flood begins (the honest limit: before that, two-probe churners can push it out)
    const evs: NetEvent[] = [rejected(955, 97), rejected(970, 98), rejected(985, 99)];
    for (let i = 0; i < 200_000; i++) {
      const t = 1000 + i * 0.01, src = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
      evs.push(rejected(t, 80, src), rejected(t, 81, src));
      if (i % 1500 === 0) evs.push(rejected(t, 100 + i / 1500)); // the scanner: one new port every 15 s
    }
    s.feed(evs);
    expect(s.d.stats().sources_evicted).toBeGreaterThan(150_000);
    expect(s.first().map((a) => a.src)).toEqual([A]);
  }, 60_000);

  it('keeps at most TARGETS targets per source exactly and counts the rest', () => {
    const s = make();
    s.feed(ports(TARGETS + 6, 15));
    s.d.flush(5000, s.emit);
    expect(s.finals()[0]!.evidence).toMatchObject({ distinct_targets: TARGETS + 6, distinct_targets_exact: false });
  });
});
