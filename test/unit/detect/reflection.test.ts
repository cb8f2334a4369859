import { describe, it, expect } from 'vitest';
import { Reflection, REFLECTION_DEFAULTS, backscatter, udpAnswer, type ReflectionConfig } from '../../../src/detect/reflection.js';
import type { ConnEvent, DnsEvent, NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const V = '10.0.0.66';

function conn(ts: number, o: Partial<ConnEvent>): ConnEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'conn', src: V, sport: 40000, dst: '198.51.100.1', dport: 80, proto: 'tcp', size: 0,
    duration: 0, orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, resp_pkts: 1, conn_state: 'OTH', history: 'hR', missed_bytes: 0, reason: 'closed', ...o,
  };
}
/** a SYN-ACK the victim never asked for (flow table: the SYN-ACK's destination is the originator), answered by its RST */
const synack = (ts: number, vport: number, refl = '198.51.100.1') => conn(ts, { src: V, sport: vport, dst: refl, dport: 80, history: 'hR' });
/** a bare RST sent to the victim */
const rst = (ts: number, vport: number, refl = '198.51.100.2') => conn(ts, { src: refl, sport: 81, dst: V, dport: vport, history: 'R', orig_pkts: 1, resp_pkts: 0 });
/** an NTP flow of `pkts` answers (`bytes` in all) to the victim that never asked (the flow's originator is the server) */
const answer = (ts: number, bytes: number, vport = 40000, refl = '192.0.2.123', pkts = 1) =>
  conn(ts, { proto: 'udp', src: refl, sport: 123, dst: V, dport: vport, orig_bytes: bytes, orig_pkts: pkts, resp_pkts: 0, resp_bytes: 0, conn_state: 'S0', history: '' });
/** an NTP request of `q` bytes from the victim answered with `a` bytes */
const asked = (ts: number, q: number, a: number, vport = 41000) =>
  conn(ts, { proto: 'udp', src: V, sport: vport, dst: '192.0.2.123', dport: 123, orig_bytes: q, orig_pkts: 1, resp_bytes: a, resp_pkts: 1, conn_state: 'SF', history: 'Dd' });
function dns(ts: number, response: boolean, size: number, port = 40000, server = '192.0.2.53'): DnsEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'dns', proto: 'udp', size,
    src: response ? server : V, sport: response ? 53 : port, dst: response ? V : server, dport: response ? port : 53,
    id: port & 0xffff, is_response: response, opcode: 0, qname: 'big.example', qtype: 'TXT', rcode: 'NOERROR', qdcount: 1,
    ancount: response ? 1 : 0, answers: [], truncated: false,
  };
}

function make(cfg: Partial<ReflectionConfig> = {}) {
  const d = new Reflection({ ...REFLECTION_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  const feed = (evs: NetEvent[]) => { for (const e of evs) { d.advance(e.ts, emit); d.onEvent(e, emit); } };
  return { d, alerts, emit, feed, first: () => alerts.filter((a) => !a.update), finals: () => alerts.filter((a) => a.update) };
}

describe('reflection: which flows are unsolicited', () => {
  it('backscatter(): SYN-ACK-first and bare-RST flows, oriented to the victim; a handshake the host started is not', () => {
    expect(backscatter(synack(1, 5000))).toMatchObject({ victim: V, victimPort: 5000, kind: 'syn_ack' });
    expect(backscatter(rst(1, 6000))).toMatchObject({ victim: V, reflector: '198.51.100.2', victimPort: 6000, kind: 'rst' });
    expect(backscatter(conn(1, { history: 'ShR', conn_state: 'RSTO' }))).toBeNull();
    expect(backscatter(conn(1, { history: 'R', resp_pkts: 1 }))).toBeNull(); // answered: not a one-way RST
    expect(backscatter(conn(1, { history: 'hAd', resp_bytes: 200 }))).toBeNull(); // mid-stream pickup with data
  });

  it('udpAnswer(): the side on the amplifier port is the server, whichever started the flow', () => {
    const ports = new Set([53, 123]);
    expect(udpAnswer(answer(1, 3000), ports)).toMatchObject({ victim: V, service: 123, request: 0, response: 3000, answers: 1 });
    expect(udpAnswer(asked(1, 40, 500), ports)).toMatchObject({ victim: V, service: 123, request: 40, response: 500 });
    expect(udpAnswer(conn(1, { proto: 'udp', sport: 5000, dport: 6000 }), ports)).toBeNull();
  });
});

describe('reflection: TCP backscatter', () => {
  it('alerts at 100 unsolicited SYN-ACK/RST flows to ≥ 50 ports within 60 s, naming the victim; 99 stay silent', () => {
    const evs = Array.from({ length: 120 }, (_, i) => (i % 2 ? synack(1000 + i * 0.1, 2000 + i) : rst(1000 + i * 0.1, 2000 + i)));
    const a = make(); a.feed(evs.slice(0, 99));
    expect(a.alerts).toHaveLength(0);
    const b = make(); b.feed(evs);
    expect(b.first()).toHaveLength(1);
    expect(b.first()[0]).toMatchObject({ kind: 'reflection', dst: V, severity: 'high', technique: 'T1498.002' });
    expect(b.first()[0]!.evidence).toMatchObject({ shape: 'tcp_backscatter', flows: 100 });
    b.d.flush(2000, b.emit);
    expect(b.finals()[0]!.evidence).toMatchObject({ flows: 120, final: true });
  });

  it('few victim ports (one stuck connection re-answered) are not backscatter; flows spread over more than the window are not either', () => {
    const one = make(); one.feed(Array.from({ length: 300 }, (_, i) => synack(1000 + i * 0.1, 2000 + (i % 10))));
    expect(one.alerts).toHaveLength(0);
    const slow = make(); slow.feed(Array.from({ length: 300 }, (_, i) => synack(1000 + i * 2, 2000 + i)));
    expect(slow.alerts).toHaveLength(0);
  });

  it('judges conn summaries that come out of time order (written at each flow end)', () => {
    const evs = Array.from({ length: 150 }, (_, i) => synack(1000 + ((i * 37) % 150) * 0.2, 3000 + i));
    const s = make(); s.feed(evs);
    expect(s.first()).toHaveLength(1);
  });
});

describe('reflection: UDP amplification', () => {
  it('DNS answers are judged as they arrive (dns events): unsolicited 3 KB answers alert at the 35th (100 KiB); the conn summaries of port 53 are not counted again', () => {
    const evs = Array.from({ length: 60 }, (_, i) => dns(1000 + i * 0.05, true, 3000, 40000 + i));
    const s = make(); s.feed(evs.slice(0, 34));
    expect(s.alerts).toHaveLength(0);
    s.feed([evs[34]!]);
    expect(s.first()).toHaveLength(1);
    expect(s.first()[0]).toMatchObject({ dst: V, ts: 1000 + 34 * 0.05 });
    const flows = evs.map((e) => conn(e.ts, { proto: 'udp', src: e.src, sport: 53, dst: V, dport: e.dport, orig_bytes: 3000, orig_pkts: 1, resp_pkts: 0, conn_state: 'S0', history: '' }));
    const c = make(); c.feed(flows);
    expect(c.alerts).toHaveLength(0);
  });

  it('DNS: a client whose answers stay under 10× its own largest query is quiet; the same answers unasked alert', () => {
    const evs: NetEvent[] = [];
    for (let i = 0; i < 200; i++) evs.push(dns(1000 + i * 0.2, false, 90, 41000 + i), dns(1000 + i * 0.2 + 0.01, true, 850, 41000 + i));
    const s = make(); s.feed(evs);
    expect(s.alerts).toHaveLength(0);
    const u = make(); u.feed(evs.filter((e) => (e as DnsEvent).is_response));
    expect(u.first()).toHaveLength(1);
  });

  it('needs udpAnswers (20) answers: 19 unsolicited 6 KB NTP answers (114 KB) stay silent, 20 alert', () => {
    const evs = Array.from({ length: 30 }, (_, i) => answer(1000 + i * 0.05, 6000, 40000 + i));
    const a = make(); a.feed(evs.slice(0, 19));
    expect(a.alerts).toHaveLength(0);
    const b = make(); b.feed(evs);
    expect(b.first()).toHaveLength(1);
    expect(b.first()[0]).toMatchObject({ kind: 'reflection', dst: V });
    expect(b.first()[0]!.evidence).toMatchObject({ shape: 'udp_amplification', answers: 20, unsolicited_flows: 20 });
  });

  it('counts answers, not flows: 10 flows of 8 answers each (one victim port per reflector) alert', () => {
    const evs = Array.from({ length: 10 }, (_, i) => answer(1000 + i * 0.3, 8 * 3900, 22, `192.0.2.${i + 1}`, 8));
    const s = make(); s.feed(evs);
    expect(s.first()).toHaveLength(1);
    expect(s.first()[0]!.evidence).toMatchObject({ answers: 32 }); // the 4th flow of 8 × 3.9 KB crosses 100 KiB
  });

  it('a client with its own large answers is quiet: answers under 10× its largest request do not count', () => {
    // 200 requests of 80 bytes answered with 700 bytes (8.75×) in a minute
    const s = make();
    s.feed(Array.from({ length: 200 }, (_, i) => asked(1000 + i * 0.3, 80, 700, 41000 + i)));
    expect(s.alerts).toHaveLength(0);
  });

  it('small answers are never amplification; volume below udpBytes is not either', () => {
    const small = make(); small.feed(Array.from({ length: 500 }, (_, i) => answer(1000 + i * 0.05, 300, 40000 + i)));
    expect(small.alerts).toHaveLength(0);
    const few = make({ udpBytes: 1024 * 1024 }); few.feed(Array.from({ length: 60 }, (_, i) => answer(1000 + i * 0.05, 3000, 40000 + i)));
    expect(few.alerts).toHaveLength(0);
  });

  it('allow-listed hosts and multicast destinations are never victims', () => {
    const evs = Array.from({ length: 80 }, (_, i) => answer(1000 + i * 0.05, 3000, 40000 + i));
    const a = make({ allow: ['10.0.0.0/24'] }); a.feed(evs);
    expect(a.alerts).toHaveLength(0);
    const m = make(); m.feed(evs.map((e) => ({ ...e, dst: '224.0.0.251' })));
    expect(m.alerts).toHaveLength(0);
  });
});
