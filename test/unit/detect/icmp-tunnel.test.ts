import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { IcmpTunnel, ICMP_TUNNEL_DEFAULTS, judgeEcho, type IcmpTunnelConfig } from '../../../src/detect/icmp-tunnel.js';
import type { IcmpEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';
import { runPipeline } from '../../helpers/collect.js';

const C = '10.0.0.66', P = '198.51.100.7';
const PCAPS = resolve(__dirname, '../../../pcaps');

function echo(ts: number, req: boolean, len: number, digest: number, entropy = 7.5): IcmpEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'icmp', src: req ? C : P, sport: 0, dst: req ? P : C, dport: 0,
    proto: 'icmp', size: len + 42, icmp_type: req ? 8 : 0, icmp_code: 0, payload_len: len, payload_digest: digest, payload_entropy: entropy,
  };
}

function make(cfg: Partial<IcmpTunnelConfig> = {}) {
  const d = new IcmpTunnel({ ...ICMP_TUNNEL_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  const feed = (evs: NetEvent[]) => { for (const e of evs) { d.advance(e.ts, emit); d.onEvent(e, emit); } };
  return { d, alerts, emit, feed, first: () => alerts.filter((a) => !a.update), finals: () => alerts.filter((a) => a.update) };
}

/** a ping session: each request answered with the same payload (one digest: the pattern after the timestamp) */
function ping(n: number, len: number, gap: number, t0 = 1000): IcmpEvent[] {
  return Array.from({ length: n }, (_, i) => [echo(t0 + i * gap, true, len, 0xabc), echo(t0 + i * gap + 0.001, false, len, 0xabc)]).flat();
}
/** a tunnel: requests and replies with changing contents */
function tunnel(n: number, len: number, gap: number, t0 = 1000): IcmpEvent[] {
  return Array.from({ length: n }, (_, i) => [echo(t0 + i * gap, true, 60, 2 * i + 1), echo(t0 + i * gap + 0.002, false, len, 2 * i + 2)]).flat();
}

describe('icmp_tunnel', () => {
  it('a tunnel moving 1 KB replies with changing contents alerts, naming the client (src) and the tunnel end (dst)', () => {
    const s = make();
    s.feed(tunnel(60, 1000, 0.05));
    expect(s.first()).toHaveLength(1);
    expect(s.first()[0]).toMatchObject({ kind: 'icmp_tunnel', src: C, dst: P, technique: 'T1095', severity: 'high' });
    expect(s.first()[0]!.evidence).toMatchObject({ client: C, server: P, distinct_share: 1 });
    s.d.flush(2000, s.emit);
    expect(s.finals()).toHaveLength(1);
    expect(s.finals()[0]!.evidence).toMatchObject({ requests: 60, replies: 60, final: true });
  });

  it('large and fast pings repeat their pattern: silent however big (ping -s 1400 -i 0.01)', () => {
    const s = make();
    s.feed(ping(1000, 1400, 0.01));
    s.d.flush(2000, s.emit);
    expect(s.alerts).toHaveLength(0);
  });

  it('needs sustained volume: a tunnel trickling 30 KiB a minute is below minBytes, 33 KiB is above', () => {
    const lo = make(); lo.feed(tunnel(30, 964, 1.9)); // 30 × (60 + 964) = 30,720 bytes in 57 s
    const hi = make(); hi.feed(tunnel(33, 964, 1.8)); // 33,792 bytes in 59 s
    expect(lo.alerts).toHaveLength(0);
    expect(hi.first()).toHaveLength(1);
  });

  it('the window slides: the same 40 KiB spread over 5 minutes is not a tunnel burst', () => {
    const s = make(); s.feed(tunnel(40, 1000, 7.5));
    expect(s.alerts).toHaveLength(0);
  });

  it('a tunnel whose replies echo its requests (kernel answers) still has half its contents new', () => {
    const evs = Array.from({ length: 40 }, (_, i) => [echo(1000 + i * 0.1, true, 1000, i + 1), echo(1000 + i * 0.1 + 0.001, false, 1000, i + 1)]).flat();
    const s = make(); s.feed(evs);
    expect(s.first()).toHaveLength(1);
  });

  it('judgeEcho: the three conditions', () => {
    const c = ICMP_TUNNEL_DEFAULTS;
    expect(judgeEcho(20, 32 * 1024, 20, 10, c)).toBe(true);
    expect(judgeEcho(19, 32 * 1024, 19, 19, c)).toBe(false);
    expect(judgeEcho(20, 32 * 1024 - 1, 20, 20, c)).toBe(false);
    expect(judgeEcho(20, 32 * 1024, 20, 9, c)).toBe(false);
  });
});

describe('icmp_tunnel on real captures (ptunnel-ng, iputils ping)', () => {
  it('ptunnel-ng carrying an HTTP download: echo events carry changing digests and high entropy; the detector alerts', async () => {
    const { events } = await runPipeline(resolve(PCAPS, 'icmp-tunnel.pcap'));
    const echoes = events.filter((e): e is IcmpEvent => e.type === 'icmp' && e.payload_len !== undefined);
    expect(echoes.length).toBeGreaterThan(200);
    const digests = new Set(echoes.map((e) => e.payload_digest));
    expect(digests.size / echoes.length).toBeGreaterThan(0.9);
    const big = echoes.filter((e) => e.payload_len! >= 1000);
    expect(big.length).toBeGreaterThan(100);
    expect(Math.min(...big.map((e) => e.payload_entropy!))).toBeGreaterThan(7);
    const s = make(); s.feed(events);
    expect(s.first()).toHaveLength(1);
  });

  it('iputils ping (1200-byte, pattern and default): one digest per session, and no alert', async () => {
    const { events } = await runPipeline(resolve(PCAPS, 'benign-ping.pcap'));
    const echoes = events.filter((e): e is IcmpEvent => e.type === 'icmp' && e.payload_len !== undefined);
    expect(echoes.length).toBeGreaterThanOrEqual(150);
    expect(new Set(echoes.map((e) => e.payload_digest)).size).toBeLessThanOrEqual(3);
    expect(echoes.filter((e) => e.payload_len === 1200).length).toBe(80);
    const s = make(); s.feed(events); s.d.flush(1e10, s.emit);
    expect(s.alerts).toHaveLength(0);
  });
});
