import { describe, it, expect } from 'vitest';
import { DistributedScan, DISTRIBUTED_SCAN_DEFAULTS, judgeSplit, type DistributedScanConfig } from '../../../src/detect/distributed-scan.js';
import type { IcmpEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const V = '10.0.0.5';
const SRC = ['203.0.113.11', '203.0.113.12', '203.0.113.13', '203.0.113.14', '203.0.113.15'];

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6 as const }; }
function rejected(ts: number, src: string, dport: number, dst = V): NetEvent {
  return { ...pt(ts), type: 'conn_rejected', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 };
}

function make(cfg: Partial<DistributedScanConfig> = {}) {
  const d = new DistributedScan({ ...DISTRIBUTED_SCAN_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  const feed = (evs: NetEvent[]) => { for (const e of evs) { d.advance(e.ts, emit); d.onEvent(e, emit); } };
  return { d, alerts, emit, feed, first: () => alerts.filter((a) => !a.update), finals: () => alerts.filter((a) => a.update) };
}

/** `k` sources share 60 ports round-robin (source i takes ports i, i+k, …), probes interleaved, 3 s apart per source */
function split(k: number, ports = 60, t0 = 1000, overlap = 0): NetEvent[] {
  const out: NetEvent[] = [];
  for (let j = 0; j < ports; j++) {
    const i = j % k;
    out.push(rejected(t0 + j * (3 / k), SRC[i]!, 1000 + j));
    if (overlap > 0 && j % Math.round(1 / overlap) === 0) out.push(rejected(t0 + j * (3 / k) + 0.1, SRC[(i + 1) % k]!, 1000 + j));
  }
  return out;
}

describe('distributed_scan', () => {
  it('5 sources with disjoint port sets: alerts naming the target and every source, then a final with the totals', () => {
    const s = make();
    s.feed(split(5));
    expect(s.first()).toHaveLength(1);
    const a = s.first()[0]!;
    expect(a).toMatchObject({ kind: 'distributed_scan', dst: V, technique: 'T1046' });
    expect(a.src).toBeUndefined();
    const ev = a.evidence as { sources: { src: string; ports: number[] }[]; distinct_ports: number; overlap: number };
    // raised as soon as 20 ports are covered by sources with ≥ 5 ports each (4 of the 5 here)
    expect(ev.sources.length).toBeGreaterThanOrEqual(3);
    for (const x of ev.sources) expect(SRC).toContain(x.src);
    expect(ev.distinct_ports).toBeGreaterThanOrEqual(20);
    expect(ev.overlap).toBe(0);
    s.d.flush(2000, s.emit);
    expect(s.finals()).toHaveLength(1);
    expect(s.finals()[0]!.evidence).toMatchObject({ distinct_ports: 60, source_count: 5, final: true });
    const fin = s.finals()[0]!.evidence as { sources: { src: string }[] };
    expect(fin.sources.map((x) => x.src).sort()).toEqual([...SRC].sort());
  });

  it('needs minSources contributors: 2 sources splitting 60 ports stay silent, 3 alert', () => {
    const two = make(); two.feed(split(2));
    const three = make(); three.feed(split(3));
    expect(two.alerts).toHaveLength(0);
    expect(three.first()).toHaveLength(1);
  });

  it('overlapping port lists (many scanners of the same services) are not a split scan', () => {
    // 5 sources each probing the same 12 ports
    const evs: NetEvent[] = [];
    for (let j = 0; j < 12; j++) for (let i = 0; i < 5; i++) evs.push(rejected(1000 + j * 5 + i, SRC[i]!, 20 + j));
    const s = make(); s.feed(evs); s.d.flush(3000, s.emit);
    expect(s.alerts).toHaveLength(0);
    // half of the ports probed twice: overlap ~ 0.5 > 0.2
    const h = make(); h.feed(split(5, 60, 1000, 0.5)); h.d.flush(3000, h.emit);
    expect(h.alerts).toHaveLength(0);
  });

  it('background scanners one after another (each with its own ports, minutes apart) are not a split scan', () => {
    const evs: NetEvent[] = [];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 8; j++) evs.push(rejected(1000 + i * 300 + j, SRC[i]!, 7000 + i * 10 + j));
    const s = make(); s.feed(evs);
    expect(s.alerts).toHaveLength(0);
  });

  it('one dominant scanner with two stragglers is port_scan business (maxShare)', () => {
    const evs: NetEvent[] = [];
    for (let j = 0; j < 40; j++) evs.push(rejected(1000 + j, SRC[0]!, 2000 + j));
    for (let j = 0; j < 4; j++) { evs.push(rejected(1100 + j, SRC[1]!, 3000 + j)); evs.push(rejected(1100 + j, SRC[2]!, 4000 + j)); }
    const s = make(); s.feed(evs);
    expect(s.alerts).toHaveLength(0);
  });

  it('a flood of two-probe sources fills the target: the weakest give way, the scan sources (more ports) stay', () => {
    const evs: NetEvent[] = [];
    let k = 0;
    for (const e of split(4)) {
      evs.push(e);
      for (let f = 0; f < 5; f++, k++) { const a = `198.18.${(k >> 8) & 255}.${k & 255}`; evs.push(rejected(e.ts, a, 80), rejected(e.ts, a, 81)); }
    }
    const s = make({ maxSourcesPerTarget: 32 });
    s.feed(evs);
    expect(s.d.stats().sources_displaced).toBeGreaterThan(200);
    expect(s.first()).toHaveLength(1);
  });

  it('a spoofed one-probe flood at the target does not push out the sources doing the scan', () => {
    const evs: NetEvent[] = [];
    const scan = split(4);
    let k = 0;
    for (const e of scan) {
      evs.push(e);
      for (let f = 0; f < 50; f++, k++) evs.push(rejected(e.ts, `198.18.${(k >> 8) & 255}.${k & 255}`, 80));
    }
    const s = make();
    s.feed(evs);
    expect(s.first()).toHaveLength(1);
    expect(s.d.stats().first_probes_filtered).toBeGreaterThan(2900);
    expect(s.d.stats().sources_displaced).toBe(0);
    expect((s.first()[0]!.evidence as { source_count: number }).source_count).toBe(4);
  });

  it('counts ICMP port-unreachables as probes of the host that sent them', () => {
    const unreach = (ts: number, prober: string, dport: number): IcmpEvent => ({
      ...pt(ts), type: 'icmp', src: V, sport: 0, dst: prober, dport: 0, proto: 'icmp', size: 70, icmp_type: 3, icmp_code: 3,
      quoted: { proto: 'udp', src: prober, sport: 51000, dst: V, dport },
    });
    const evs = Array.from({ length: 30 }, (_, j) => unreach(1000 + j, SRC[j % 3]!, 5000 + j));
    const s = make(); s.feed(evs);
    expect(s.first()).toHaveLength(1);
    expect(s.first()[0]!.dst).toBe(V);
  });

  it('judgeSplit: union, overlap and share of the contributors', () => {
    const src = (name: string, ports: number[]) => ({ src: name, ports: new Set(ports), first: 0, last: 10, probes: ports.length });
    const v = judgeSplit([src('a', [1, 2, 3, 4, 5]), src('b', [5, 6, 7, 8, 9]), src('c', [10, 11, 12, 13]), src('d', [9])], 10, DISTRIBUTED_SCAN_DEFAULTS);
    expect(v.contributors.map((s) => s.src)).toEqual(['a', 'b']); // c and d below 5 ports
    expect(v.union).toBe(9);
    expect(v.overlap).toBeCloseTo(2 / 10);
    expect(v.maxShare).toBeCloseTo(5 / 9);
    // a source idle longer than `active` is no contributor (not part of a scan running now)
    expect(judgeSplit([src('a', [1, 2, 3, 4, 5])], 10 + 121, DISTRIBUTED_SCAN_DEFAULTS).contributors).toHaveLength(0);
  });
});
