import { describe, it, expect } from 'vitest';
import { ethernet, ipv4Packet, ipv6Packet, ipv6ExtChain, tcp, udp, ascii } from '../helpers/craft.js';
import { runFrames } from '../helpers/collect.js';
import { Pipeline } from '../../src/pipeline.js';
import type { ConnEvent, NetEvent } from '../../src/events/types.js';

const C = '10.0.0.1', S = '10.0.0.2';
const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;
const c2s = (flags: number, payload: number[] = [], seq = 100, ack = 0, sport = 40000) => ethernet(ipv4Packet(C, S, 6, tcp(sport, 80, flags, payload, seq, ack)));
const s2c = (flags: number, payload: number[] = [], seq = 500, ack = 0, sport = 40000) => ethernet(ipv4Packet(S, C, 6, tcp(80, sport, flags, payload, seq, ack)));

const byType = (ev: NetEvent[], type: string) => ev.filter((e) => e.type === type);

describe('TCP connection tracking', () => {
  it('follows a full handshake, data and close to an SF summary with Zeek-like history', () => {
    const req = ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { events } = runFrames([
      { data: c2s(SYN, [], 100), ts: 1000.0 },
      { data: s2c(SYN | ACK, [], 500, 101), ts: 1000.1 },
      { data: c2s(ACK, [], 101, 501), ts: 1000.2 },
      { data: c2s(ACK | PSH, req, 101, 501), ts: 1000.3 },
      { data: s2c(ACK | PSH, ascii('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 501, 101 + req.length), ts: 1000.4 },
      { data: c2s(FIN | ACK, [], 101 + req.length, 540), ts: 1000.5 },
      { data: s2c(FIN | ACK, [], 540, 102 + req.length), ts: 1000.6 },
    ]);
    expect(byType(events, 'tcp_syn')).toHaveLength(1);
    expect(byType(events, 'conn_established')).toHaveLength(1);
    expect(byType(events, 'http_request')).toHaveLength(1);
    expect(byType(events, 'http_response')).toHaveLength(1);
    const conn = byType(events, 'conn')[0] as ConnEvent;
    expect(conn).toMatchObject({ src: C, dst: S, sport: 40000, dport: 80, conn_state: 'SF', history: 'ShDdFf', orig_pkts: 4, resp_pkts: 3, orig_bytes: req.length });
    expect(conn.duration).toBeCloseTo(0.6, 6);
  });

  it('a SYN behind 100 chained IPv6 extension headers is a tcp_syn (a scanner cannot hide behind a long chain)', () => {
    const [first, chain] = ipv6ExtChain(100, 6, tcp(40000, 22, SYN));
    const { events, pipeline } = runFrames([{ data: ethernet(ipv6Packet('2001:db8::1', '2001:db8::2', first, chain), 0x86dd) }]);
    expect(byType(events, 'tcp_syn')).toMatchObject([{ src: '2001:db8::1', dst: '2001:db8::2', dport: 22 }]);
    expect(pipeline.snapshot().decodeErrors).toEqual({});
  });

  it('counts a DNS name over 255 bytes (dns_name_too_long) and still reports the query', () => {
    const long = Array.from({ length: 5 }, () => [63, ...Array(63).fill(0x61)]).flat();
    const q = [0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...long, 0, 0, 1, 0, 1];
    const { events, pipeline } = runFrames([{ data: ethernet(ipv4Packet(C, S, 17, udp(5353, 53, q))) }]);
    expect(byType(events, 'dns')).toMatchObject([{ id: 7, qtype: 'A' }]);
    expect(pipeline.snapshot().decodeErrors).toEqual({ dns_name_too_long: 1 });
  });

  it('reports a connection refused by RST as rejected with state REJ', () => {
    const { events } = runFrames([{ data: c2s(SYN), ts: 1 }, { data: s2c(RST | ACK, [], 0, 101), ts: 1.001 }]);
    expect(byType(events, 'conn_rejected')).toHaveLength(1);
    expect((byType(events, 'conn')[0] as ConnEvent).conn_state).toBe('REJ');
  });

  it('reports an unanswered SYN once the attempt times out on packet time, not at end of input', () => {
    const { events } = runFrames([
      { data: c2s(SYN), ts: 100 },
      { data: ethernet(ipv4Packet('10.9.9.9', '10.9.9.8', 17, udp(1, 2, []))), ts: 106.5 }, // time passes
    ]);
    const un = byType(events, 'conn_unanswered');
    expect(un).toHaveLength(1);
    const conn = events.find((e) => e.type === 'conn' && e.dport === 80) as ConnEvent;
    expect(conn).toMatchObject({ conn_state: 'S0', reason: 'timeout' });
  });

  it('makes the SYN-ACK receiver the originator when the SYN was not captured', () => {
    const { events } = runFrames([{ data: s2c(SYN | ACK, [], 500, 101), ts: 1 }]);
    expect(byType(events, 'conn')[0]).toMatchObject({ src: C, dst: S, dport: 80 });
  });

  it('evicts the least recently active flow at the cap, counts it, and still writes its summary', () => {
    const events: NetEvent[] = [];
    const p = new Pipeline({ detectors: [], tracker: { maxFlows: 2 }, onEvent: (e) => events.push(e), onAlert: () => {} });
    for (let i = 0; i < 3; i++) {
      const b = Buffer.from(c2s(SYN, [], 100, 0, 41000 + i));
      p.packet(1, 10 + i, 0, b, 0, b.length, b.length, 6);
    }
    const st = p.snapshot();
    expect(st.flows).toMatchObject({ active: 2, evicted: 1 });
    expect(events.find((e) => e.type === 'conn')).toMatchObject({ sport: 41000, reason: 'evicted' });
  });

  it('puts out-of-order segments back in order for the HTTP parser', () => {
    const a = ascii('GET /reorder HTTP/1.1\r\n');
    const b = ascii('Host: x\r\n\r\n');
    const { events } = runFrames([
      { data: c2s(SYN, [], 100), ts: 1 },
      { data: s2c(SYN | ACK, [], 500, 101), ts: 1.1 },
      { data: c2s(ACK, [], 101, 501), ts: 1.2 },
      { data: c2s(ACK | PSH, a, 101, 501), ts: 1.25 },
      { data: c2s(ACK | PSH, b, 101 + a.length, 501), ts: 1.3 },
      { data: c2s(ACK | PSH, a, 101, 501), ts: 1.4 }, // retransmission: must not duplicate
    ]);
    expect(byType(events, 'http_request').map((e) => (e as { uri: string }).uri)).toEqual(['/reorder']);
  });
});

describe('UDP and DNS', () => {
  it('emits DNS events for both directions on port 53 and one UDP conn summary', () => {
    const q = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1];
    const r = [0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1];
    const { events } = runFrames([
      { data: ethernet(ipv4Packet(C, S, 17, udp(5555, 53, q))), ts: 1 },
      { data: ethernet(ipv4Packet(S, C, 17, udp(53, 5555, r))), ts: 1.01 },
    ]);
    const dns = byType(events, 'dns');
    expect(dns.map((d) => [d.src, (d as { rcode: string }).rcode, (d as { is_response: boolean }).is_response])).toEqual([[C, 'NOERROR', false], [S, 'NXDOMAIN', true]]);
    expect(byType(events, 'conn')[0]).toMatchObject({ proto: 'udp', conn_state: 'SF', orig_pkts: 1, resp_pkts: 1 });
  });
});
