import { describe, it, expect } from 'vitest';
import { PortScan, PORT_SCAN_DEFAULTS, type PortScanConfig } from '../../../src/detect/port-scan.js';
import { classifyProbe } from '../../../src/detect/probe.js';
import type { ConnEvent, ConnState, IcmpEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const A = '203.0.113.9', V = '10.0.0.5';

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const }; }
function rejected(ts: number, dport: number, src = A, dst = V): NetEvent {
  return { ...pt(ts), type: 'conn_rejected', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 };
}
function conn(ts: number, dport: number, state: ConnState, history: string, o: Partial<ConnEvent> = {}): ConnEvent {
  return {
    ...pt(ts), type: 'conn', src: A, sport: 40000, dst: V, dport, proto: 'tcp', size: 0, duration: 0.01,
    orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, resp_pkts: 0, conn_state: state, history, reason: 'timeout', ...o,
  };
}
function unreach(ts: number, dport: number, o: Partial<IcmpEvent> = {}, qsrc = A): IcmpEvent {
  return {
    ...pt(ts), type: 'icmp', src: V, sport: 0, dst: qsrc, dport: 0, proto: 'icmp', size: 70, icmp_type: 3, icmp_code: 3,
    quoted: { proto: 'udp', src: qsrc, sport: 51000, dst: V, dport }, ...o,
  };
}

function run(events: NetEvent[], cfg: Partial<PortScanConfig> = {}, end?: number) {
  const d = new PortScan({ ...PORT_SCAN_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  for (const e of events) { d.advance(e.ts, emit); d.onEvent(e, emit); }
  if (end !== undefined) { d.advance(end, emit); d.flush(end, emit); }
  return { d, alerts, first: alerts.filter((a) => !a.update), finals: alerts.filter((a) => a.update) };
}

/** n refused high ports (weight 1 each, so scanlogd's rule stays below 21 until n = 21), `gap` s apart */
const highPorts = (n: number, gap: number, t0 = 1000) => Array.from({ length: n }, (_, i) => rejected(t0 + i * gap, 20000 + i));

describe('port_scan: fast window (15 ports / 60 s)', () => {
  it('stays silent at 14 refused ports within a minute', () => {
    expect(run(highPorts(14, 4)).alerts).toHaveLength(0);
  });

  it('alerts at the 15th refused port within a minute, naming scanner and victim, T1046', () => {
    const { first } = run(highPorts(15, 4));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'port_scan', src: A, dst: V, technique: 'T1046', ts: 1000 + 14 * 4 });
    expect(first[0]!.evidence).toMatchObject({ distinct_ports: 15, trigger: 'fast' });
  });

  it('does not alert when 15 ports are spread over just more than the window', () => {
    // 15 ports, 4.3 s apart: the first and the last are 60.2 s apart
    expect(run(highPorts(15, 4.3)).alerts).toHaveLength(0);
  });

  it('counts a port once however often it is probed', () => {
    const ev = Array.from({ length: 100 }, (_, i) => rejected(1000 + i * 0.1, 20000 + (i % 14)));
    expect(run(ev).alerts).toHaveLength(0);
  });
});

describe('port_scan: slow window (25 ports / 900 s, forgotten after 900 s idle)', () => {
  it('catches nmap -T1 pacing (15 s per probe) at the 25th port', () => {
    const { first } = run(highPorts(25, 15));
    expect(first).toHaveLength(1);
    expect(first[0]!.evidence).toMatchObject({ trigger: 'slow', distinct_ports: 25 });
  });

  it('stays silent at 24 ports at that pace', () => {
    expect(run(highPorts(24, 15)).alerts).toHaveLength(0);
  });

  it('forgets a pair after 900 s without a probe', () => {
    const ev = [...highPorts(24, 15), rejected(1000 + 23 * 15 + 901, 30000)];
    const { alerts, d } = run(ev);
    expect(alerts).toHaveLength(0);
    expect(d.stats().pairs).toBe(1);
  });

  it('does not alert when 25 ports take longer than the slow window', () => {
    // 38 s apart: 24 gaps = 912 s > 900 s (and never idle 900 s)
    expect(run(highPorts(25, 38)).alerts).toHaveLength(0);
  });
});

describe('port_scan: scanlogd weight (privileged 3, others 1, ≥ 21, ≤ 3 s apart)', () => {
  const priv = (n: number, gap: number, t0 = 1000) => Array.from({ length: n }, (_, i) => rejected(t0 + i * gap, 20 + i));

  it('alerts at 7 privileged ports in a quick burst', () => {
    const { first } = run(priv(7, 1));
    expect(first).toHaveLength(1);
    expect(first[0]!.evidence).toMatchObject({ trigger: 'weight', privileged_ports: 7 });
  });

  it('stays silent at weight 20 (6 privileged + 2 high ports)', () => {
    expect(run([...priv(6, 1), rejected(1006, 20001), rejected(1007, 20002)]).alerts).toHaveLength(0);
  });

  it('restarts the weight when ports are more than 3 s apart', () => {
    expect(run(priv(7, 3.5)).alerts).toHaveLength(0);
  });
});

describe('port_scan: what counts as a probe', () => {
  it('never counts successful or data-carrying connections (a busy client of many services)', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const t = 1000 + i * 0.05;
      ev.push(conn(t, 1 + i, 'SF', 'ShDdFf', { orig_bytes: 100, resp_bytes: 2000, orig_pkts: 5, resp_pkts: 5 }));
      ev.push(conn(t, 1000 + i, 'S1', 'ShD', { orig_bytes: 10, orig_pkts: 3, resp_pkts: 1 }));
      ev.push(conn(t, 2000 + i, 'RSTO', 'ShDdR', { orig_bytes: 10, resp_bytes: 10, orig_pkts: 3, resp_pkts: 2 }));
      ev.push({ ...pt(t), type: 'conn_established', src: A, sport: 40000, dst: V, dport: 3000 + i, proto: 'tcp', size: 0 });
    }
    expect(run(ev, {}, 5000).alerts).toHaveLength(0);
  });

  it('counts pure attempts (S0 "S") but not S0 with data seen one way ("SD")', () => {
    expect(classifyProbe(conn(1, 80, 'S0', 'S'))?.kind).toBe('unanswered');
    expect(classifyProbe(conn(1, 80, 'S0', 'SD', { orig_bytes: 100 }))).toBeNull();
  });

  it('counts a SYN scan\'s open port (SYN, SYN-ACK, RST, no data) and half-open probes', () => {
    expect(classifyProbe(conn(1, 22, 'RSTO', 'ShR', { resp_pkts: 1 }))?.kind).toBe('reset_no_data');
    expect(classifyProbe(conn(1, 22, 'RSTOS0', 'SR'))?.kind).toBe('half_open');
    expect(classifyProbe(conn(1, 22, 'SH', 'SF'))?.kind).toBe('half_open');
  });

  it('counts FIN/NULL/Xmas probes but not backscatter RSTs, SYN-ACKs or mid-stream data', () => {
    expect(classifyProbe(conn(1, 22, 'OTH', 'F'))?.kind).toBe('stealth');
    expect(classifyProbe(conn(1, 22, 'OTH', 'Fr', { resp_pkts: 1 }))?.kind).toBe('stealth');
    expect(classifyProbe(conn(1, 22, 'OTH', ''))?.kind).toBe('stealth');
    expect(classifyProbe(conn(1, 22, 'OTH', 'R'))).toBeNull();
    expect(classifyProbe(conn(1, 22, 'OTH', 'h'))).toBeNull();
    expect(classifyProbe(conn(1, 22, 'OTH', 'D', { orig_bytes: 300 }))).toBeNull();
    expect(classifyProbe(conn(1, 22, 'OTH', '', { resp_pkts: 3 }))).toBeNull(); // keep-alive pickup: answered by ACKs
  });

  it('raises a FIN-scan alert from stealth probes alone', () => {
    const ev = Array.from({ length: 15 }, (_, i) => conn(1000 + i, 20000 + i, 'OTH', 'F'));
    const { first } = run(ev);
    expect(first).toHaveLength(1);
    expect(first[0]!.evidence).toMatchObject({ scan_type: 'TCP FIN/NULL/Xmas/ACK' });
  });

  it('counts UDP probes but not late replies from a service port, traceroute or multicast', () => {
    const u = (o: Partial<ConnEvent>) => conn(1, 161, 'S0', '', { proto: 'udp', sport: 51000, orig_bytes: 40, ...o });
    expect(classifyProbe(u({}))?.kind).toBe('udp_no_reply');
    expect(classifyProbe(u({ sport: 53, dport: 40001 }))).toBeNull();
    expect(classifyProbe(u({ dport: 33440 }))).toBeNull();
    expect(classifyProbe(u({ dst: '239.255.255.250', dport: 1900 }))).toBeNull();
    expect(classifyProbe(u({ orig_pkts: 50, orig_bytes: 60000 }))).toBeNull(); // a one-way stream
  });

  it('credits ICMP port unreachables to the quoted prober, and ignores errors sent to someone else', () => {
    const ev = Array.from({ length: 15 }, (_, i) => unreach(1000 + i * 2, 20000 + i));
    const { first } = run(ev);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ src: A, dst: V });
    expect(first[0]!.evidence).toMatchObject({ scan_type: 'UDP' });
    expect(classifyProbe(unreach(1, 161, { dst: '198.51.100.1' }))).toBeNull();
    expect(classifyProbe(unreach(1, 161, { icmp_type: 11, icmp_code: 0 }))).toBeNull();
  });
});

describe('port_scan: one alert per episode, final update', () => {
  it('raises one alert for 1,000 ports and a final update with totals after 900 s idle', () => {
    const ev = Array.from({ length: 1000 }, (_, i) => rejected(1000 + i * 0.01, 1 + i));
    const d = new PortScan(PORT_SCAN_DEFAULTS);
    const alerts: Alert[] = [];
    const emit = (a: Alert) => alerts.push(a);
    for (const e of ev) d.onEvent(e, emit);
    expect(alerts).toHaveLength(1);
    d.advance(1010 + 899, emit);
    expect(alerts).toHaveLength(1);
    d.advance(1010 + 901, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ kind: 'port_scan', src: A, dst: V, update: true, severity: 'high' });
    expect(alerts[1]!.evidence).toMatchObject({ distinct_ports: 1000, probes: 1000, final: true });
    d.flush(5000, emit);
    expect(alerts).toHaveLength(2);
  });

  it('reports the episode at end of input', () => {
    const { finals } = run(highPorts(30, 1), {}, 1100);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.evidence).toMatchObject({ distinct_ports: 30 });
  });

  it('raises separate alerts for two victims of one scanner', () => {
    const ev = [...highPorts(15, 1), ...Array.from({ length: 15 }, (_, i) => rejected(1100 + i, 20000 + i, A, '10.0.0.6'))];
    expect(run(ev).first.map((a) => a.dst)).toEqual([V, '10.0.0.6']);
  });

  it('ignores scanners on the allow-list', () => {
    expect(run(highPorts(40, 1), { allow: ['203.0.113.0/24'] }).alerts).toHaveLength(0);
  });
});

describe('port_scan: bounded state', () => {
  it('keeps at most maxPairs pairs under 1,000,000 distinct sources (two probes each), counting evictions', () => {
    const d = new PortScan({ ...PORT_SCAN_DEFAULTS, maxPairs: 1000 });
    const emit = () => {};
    const e = rejected(1000, 80) as { src: string; ts: number; dport: number };
    for (let i = 0; i < 1_000_000; i++) {
      e.src = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.1`;
      e.dport = 80; d.onEvent(e as NetEvent, emit);
      e.dport = 81; d.onEvent(e as NetEvent, emit);
    }
    expect(d.stats().pairs).toBe(1000);
    expect(d.stats().pairs_evicted).toBe(999_000);
  });

  it('creates (almost) no pair for one probe per source (a spoofed flood): the first probe is only remembered', () => {
    const d = new PortScan({ ...PORT_SCAN_DEFAULTS, maxPairs: 1000 });
    const e = rejected(1000, 80) as { src: string };
    const N = 200_000;
    for (let i = 0; i < N; i++) { e.src = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.1`; d.onEvent(e as NetEvent, () => {}); }
    const st = d.stats();
    expect(st.probes).toBe(N);
    expect(st.pairs + st.pairs_evicted).toBeLessThan(N * 0.02); // the filter's false "seen" (≈ 1 %)
    expect(st.first_probes_filtered).toBeGreaterThan(N * 0.98);
  });

  it('replays a pair\'s first probe when the second admits it: same alert, same counts as if tracked from the start', () => {
    // 15 ports with other pairs' first probes in between: the 15th alerts with 15 ports and the first port sampled
    const ev: NetEvent[] = [];
    for (let i = 0; i < 15; i++) { ev.push(rejected(1000 + i, 20000 + i)); ev.push(rejected(1000 + i + 0.5, 80, `198.51.100.${i + 1}`)); }
    const { first, d } = run(ev);
    expect(first).toHaveLength(1);
    expect(first[0]!.evidence).toMatchObject({ distinct_ports: 15, probes: 15, trigger: 'fast' });
    expect((first[0]!.evidence as { sample_ports: number[] }).sample_ports[0]).toBe(20000);
    expect(first[0]!.ts_first).toBe(1000);
    expect(d.stats()).toMatchObject({ pairs: 1, first_probes_filtered: 16 });
  });

  it('does not replay a first probe older than idleTimeout (the pair would have been forgotten)', () => {
    const ev = [rejected(1000, 20000), rejected(1000 + 901, 20001)];
    const { d } = run(ev);
    const p = d as unknown as { pairs: { get(k: string): { ports: { size: number }; first: number } | undefined } };
    expect(p.pairs.get(`${A}|${V}`)).toMatchObject({ first: 1901, ports: { size: 1 } });
  });

  it('gives a final alert to an alerted pair evicted by the cap', () => {
    const ev = [...highPorts(15, 1), rejected(1020, 80, '198.51.100.1'), rejected(1020.5, 81, '198.51.100.1'),
      rejected(1021, 80, '198.51.100.2'), rejected(1021.5, 81, '198.51.100.2')];
    const { alerts, d } = run(ev, { maxPairs: 2 });
    expect(alerts.filter((a) => a.update && a.src === A)).toHaveLength(1);
    expect(d.stats().pairs_evicted).toBe(1);
  });

  it('limits 8 KiB bitsets to maxBitsets alerted pairs; the others stop adding at 1,024 ports', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 3000; i++) { ev.push(rejected(1000 + i * 0.001, 1 + i)); ev.push(rejected(1000 + i * 0.001, 1 + i, A, '10.0.0.6')); }
    const { d, finals } = run(ev, { maxBitsets: 1 }, 1010);
    expect(d.stats().bitsets).toBe(0); // released at the end
    const byDst = Object.fromEntries(finals.map((a) => [a.dst, a.evidence]));
    expect(byDst[V]).toMatchObject({ distinct_ports: 3000, distinct_ports_capped: false });
    expect(byDst['10.0.0.6']).toMatchObject({ distinct_ports: 1024, distinct_ports_capped: true });
  });

  it('restarts a pair that gathered 64 ports too slowly to alert, and counts it', () => {
    // one port every 40 s: never 25 within 900 s, never idle 900 s
    const { alerts, d } = run(highPorts(70, 40));
    expect(alerts).toHaveLength(0);
    expect(d.stats().port_sets_reset).toBe(1);
  });
});
