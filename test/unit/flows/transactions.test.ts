/**
 * Transaction pairing (src/flows/transactions.ts): a DNS response with its
 * query (id on the flow, exact rtt, retransmissions, repeats, caps), an HTTP
 * response with its request (order, pipelining, 1xx, caps), and through the
 * tracker and the event log: rtt/query_ts on DNS answers, trans_depth/method/uri
 * on HTTP responses, service and local_orig/local_resp on conn summaries.
 */
import { describe, it, expect } from 'vitest';
import { DnsPending, DnsTransactions, HttpPairing, MAX_PIPELINED, MAX_PIPELINED_URI_CHARS, newTxStats } from '../../../src/flows/transactions.js';
import { HttpConnection, HttpHalf, type HttpResponseInfo } from '../../../src/decode/http.js';
import { eventToJson } from '../../../src/events/serialize.js';
import type { ConnEvent, DnsEvent, NetEvent, PacketTime } from '../../../src/events/types.js';
import { Pipeline } from '../../../src/pipeline.js';
import { dnsName, ethernet, ipv4Packet, u16, udp } from '../../helpers/craft.js';

const at = (tsSec: number, tsNsec: number, tsDigits: 6 | 9 = 9): PacketTime => ({ ts: tsSec + tsNsec / 1e9, tsSec, tsNsec, tsDigits });

describe('DNS pairing', () => {
  it('pairs a response with the waiting query of the same id on its flow; rtt exact to the nanosecond across a second boundary', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    tx.query(f, 0x1234, at(1_700_000_000, 999_999_123));
    tx.query(f, 0x0042, at(1_700_000_001, 100));
    const p = tx.response(f, 0x1234, at(1_700_000_001, 123_457))!;
    // 1.000123457 s − 0.999999123 s: the sum-of-doubles difference would be off in the last digits
    expect(p.rtt).toBe(0.000124334);
    expect(p.query).toEqual({ ts: 1_700_000_000 + 999_999_123 / 1e9, tsSec: 1_700_000_000, tsNsec: 999_999_123, tsDigits: 9 });
    expect(tx.response(f, 0x0042, at(1_700_000_001, 5_000_100))!.rtt).toBe(0.005);
    expect(tx.stats).toMatchObject({ dns_queries: 2, dns_answered: 2, dns_unmatched_responses: 0 });
    expect(tx.size).toBe(0);
  });

  it('over TCP, rtt runs from the segment that completed the query; the pairing names the query event\'s own time', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    tx.query(f, 3, at(50, 0), at(50, 200_000_000)); // length prefix first, the rest 0.2 s later
    const p = tx.response(f, 3, at(50, 250_000_000))!;
    expect(p.rtt).toBe(0.05);
    expect(p.query.tsNsec).toBe(0);
  });

  it('a response with no query seen (no state, or other ids only) gets no pairing and is counted', () => {
    const tx = new DnsTransactions();
    expect(tx.response(null, 7, at(10, 0))).toBeNull();
    const f = new DnsPending();
    tx.query(f, 1, at(10, 0));
    expect(tx.response(f, 2, at(10, 5))).toBeNull();
    expect(tx.stats.dns_unmatched_responses).toBe(2);
    expect(tx.size).toBe(1); // query 1 still waits
  });

  it('a retransmitted query (same id, still waiting) is not a new transaction: the answer is timed from the first', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    tx.query(f, 9, at(100, 0));
    tx.query(f, 9, at(101, 0));
    expect(tx.response(f, 9, at(101, 250_000_000))!.rtt).toBe(1.25);
    expect(tx.stats).toMatchObject({ dns_queries: 1, dns_retransmits: 1, dns_answered: 1 });
  });

  it('the same id more than 5 s after a waiting query is a new transaction; the old query counts as unanswered', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    tx.query(f, 9, at(100, 0));
    tx.query(f, 9, at(105, 1000)); // 5.000001 s later
    expect(tx.response(f, 9, at(105, 83_001_000))!.rtt).toBe(0.083);
    expect(tx.stats).toMatchObject({ dns_queries: 2, dns_retransmits: 0, dns_unanswered: 1, dns_answered: 1 });
    expect(tx.size).toBe(0);
  });

  it('later responses with the answered id (AXFR chunks, duplicates) are timed from that query; a new query with that id starts over', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    tx.query(f, 5, at(100, 0));
    expect(tx.response(f, 5, at(100, 1_000_000))!.rtt).toBe(0.001);
    expect(tx.response(f, 5, at(100, 3_000_000))!.rtt).toBe(0.003);
    expect(tx.stats).toMatchObject({ dns_answered: 1, dns_repeat_responses: 1 });
    tx.query(f, 5, at(200, 0));
    expect(tx.response(f, 5, at(200, 2_000_000))!.rtt).toBe(0.002);
    expect(tx.response(f, 6, at(200, 3_000_000))).toBeNull(); // another id: not the last answered one
  });

  it('answers in any order pair with their own queries', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    for (let id = 1; id <= 5; id++) tx.query(f, id, at(50, id * 1000));
    const rtts = [4, 2, 5, 1, 3].map((id) => tx.response(f, id, at(51, 0))!.rtt);
    expect(rtts).toEqual([0.999996, 0.999998, 0.999995, 0.999999, 0.999997]);
    expect(tx.size).toBe(0);
  });

  it('caps waiting queries per flow: the oldest is dropped and counted; its late answer is unmatched', () => {
    const tx = new DnsTransactions(newTxStats(), { perFlow: 3 });
    const f = new DnsPending();
    for (let id = 1; id <= 4; id++) tx.query(f, id, at(1, id));
    expect(f.waiting.map((q) => q.id)).toEqual([2, 3, 4]);
    expect(tx.stats.dns_evicted_flow_cap).toBe(1);
    expect(tx.response(f, 1, at(2, 0))).toBeNull();
    expect(tx.response(f, 4, at(2, 0))).not.toBeNull();
    expect(tx.size).toBe(2);
  });

  it('caps waiting queries over all flows: the oldest anywhere is dropped and counted', () => {
    const tx = new DnsTransactions(newTxStats(), { total: 3 });
    const a = new DnsPending(), b = new DnsPending();
    tx.query(a, 1, at(1, 0));
    tx.query(b, 1, at(2, 0));
    tx.query(a, 2, at(3, 0));
    tx.query(b, 2, at(4, 0)); // drops a's query 1, the oldest
    expect(tx.size).toBe(3);
    expect(tx.stats.dns_evicted_total_cap).toBe(1);
    expect(a.waiting.map((q) => q.id)).toEqual([2]);
    expect(tx.response(a, 1, at(5, 0))).toBeNull();
    expect(tx.response(b, 1, at(5, 0))!.rtt).toBe(3);
    // 10 000 queries through a cap of 3: the state never grows past it
    for (let i = 0; i < 10_000; i++) tx.query(i % 2 ? a : b, 100 + i, at(10 + i, 0));
    expect(tx.size).toBe(3);
    expect(a.waiting.length + b.waiting.length).toBe(3);
  });

  it('a flow that ends counts what still waits as unanswered and gives its room back', () => {
    const tx = new DnsTransactions();
    const f = new DnsPending();
    tx.query(f, 1, at(1, 0));
    tx.query(f, 2, at(1, 1));
    tx.response(f, 1, at(1, 2));
    tx.close(f);
    expect(tx.stats.dns_unanswered).toBe(1);
    expect(tx.size).toBe(0);
    expect(f.waiting).toEqual([]);
  });
});

describe('HTTP pairing', () => {
  it('pairs responses with requests in order, pipelined ones included; 1xx belongs to the oldest without consuming it', () => {
    const h = new HttpPairing();
    expect([h.request('GET', '/a'), h.request('POST', '/b'), h.request('HEAD', '/c')]).toEqual([1, 2, 3]);
    expect(h.response(false)).toEqual({ depth: 1, method: 'GET', uri: '/a' });
    expect(h.response(true)).toEqual({ depth: 2, method: 'POST', uri: '/b' }); // 100 Continue
    expect(h.response(false)).toEqual({ depth: 2, method: 'POST', uri: '/b' });
    expect(h.response(false)).toEqual({ depth: 3, method: 'HEAD', uri: '/c' });
    expect(h.stats.http_answered).toBe(3);
  });

  it('a response with no request outstanding is unpaired, counted, and does not shift later pairs', () => {
    const h = new HttpPairing();
    expect(h.response(false)).toBeNull(); // capture started after the request
    h.request('GET', '/next');
    expect(h.response(false)).toEqual({ depth: 1, method: 'GET', uri: '/next' });
    expect(h.response(false)).toBeNull();
    expect(h.stats.http_unmatched_responses).toBe(2);
  });

  it('past the pipelining cap a request keeps its place (depth) but not its method/uri; counted', () => {
    const h = new HttpPairing();
    for (let i = 1; i <= MAX_PIPELINED + 2; i++) h.request('GET', `/${i}`);
    expect(h.stats.http_pipeline_overflow).toBe(2);
    const got = Array.from({ length: MAX_PIPELINED + 2 }, () => h.response(false));
    expect(got[0]).toEqual({ depth: 1, method: 'GET', uri: '/1' });
    expect(got[MAX_PIPELINED - 1]).toEqual({ depth: MAX_PIPELINED, method: 'GET', uri: `/${MAX_PIPELINED}` });
    expect(got[MAX_PIPELINED]).toEqual({ depth: MAX_PIPELINED + 1 });
    expect(got[MAX_PIPELINED + 1]).toEqual({ depth: MAX_PIPELINED + 2 });
    // room again: the next request is kept
    h.request('GET', '/later');
    expect(h.response(false)).toEqual({ depth: MAX_PIPELINED + 3, method: 'GET', uri: '/later' });
  });

  it('bounds the URI text held for unanswered requests', () => {
    const h = new HttpPairing();
    const big = '/' + 'x'.repeat(MAX_PIPELINED_URI_CHARS - 1);
    h.request('GET', big);
    h.request('GET', '/y'); // would pass the bound
    expect(h.stats.http_pipeline_overflow).toBe(1);
    expect(h.response(false)).toMatchObject({ depth: 1, uri: big });
    expect(h.response(false)).toEqual({ depth: 2 });
  });

  it('through the parser: pipelined requests in one segment, their answers in one segment, an unparseable request in its turn', () => {
    const resps: HttpResponseInfo[] = [];
    const c = new HttpConnection({ request: () => {}, response: (r) => resps.push(r) });
    const client = new HttpHalf(true, c), server = new HttpHalf(false, c);
    const t = at(1, 0, 6);
    const send = (hh: HttpHalf, s: string): void => { const b = Buffer.from(s, 'latin1'); hh.data(b, 0, b.length, t); };
    send(client, 'GET /one HTTP/1.1\r\nHost: h\r\n\r\nHEAD /two HTTP/1.1\r\nHost: h\r\n\r\nFROB /x HTTP/1\r\nHost: h\r\n\r\nGET /four HTTP/1.1\r\nHost: h\r\n\r\n');
    send(server, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'
      + 'HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    // the HEAD answer's Content-Length announces no body: the next status line is still found
    expect(resps.map((r) => [r.status, r.request])).toEqual([
      [200, { depth: 1, method: 'GET', uri: '/one' }],
      [200, { depth: 2, method: 'HEAD', uri: '/two' }],
      [400, { depth: 3 }],
      [404, { depth: 4, method: 'GET', uri: '/four' }],
    ]);
  });
});

describe('event log', () => {
  it('writes query_ts exactly at the capture precision, and rtt; leaves out the internal exact fields', () => {
    const e: DnsEvent = {
      ts: 0, tsSec: 1_700_000_001, tsNsec: 5, tsDigits: 9, type: 'dns', src: '10.0.0.2', sport: 53, dst: '10.0.0.1', dport: 4000, proto: 'udp',
      size: 40, id: 1, is_response: true, opcode: 0, qname: 'a.test', qtype: 'A', rcode: 'NOERROR', qdcount: 1, ancount: 0, answers: [],
      truncated: false, rtt: 0.000000011, query_ts: 1_700_000_000.999999994, queryTsSec: 1_700_000_000, queryTsNsec: 999_999_994,
    };
    const j = eventToJson(e);
    expect(j).toMatch(/^\{"ts":1700000001\.000000005,/);
    expect(j).toContain('"rtt":1.1e-8');
    expect(j).toMatch(/"query_ts":1700000000\.999999994\}$/);
    expect(j).not.toMatch(/queryTs/);
    expect(JSON.parse(j).query_ts).toBeCloseTo(1_700_000_001 - 1.1e-8, 6);
    const us = eventToJson({ ...e, tsDigits: 6, queryTsNsec: 123_333_000 });
    expect(us).toMatch(/"query_ts":1700000000\.123333\}$/);
    expect(eventToJson({ ...e, rtt: undefined, query_ts: undefined, queryTsSec: undefined, queryTsNsec: undefined })).not.toMatch(/rtt|query_ts|queryTs/);
  });
});

/** A UDP DNS message between 10.1.0.5:4444 and the resolver 192.0.2.53:53 (outside the home net below). */
function dnsFrame(id: number, response: boolean): number[] {
  const msg = [...u16(id), response ? 0x81 : 0x01, response ? 0x80 : 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...dnsName('pair.test'), 0, 1, 0, 1];
  return ethernet(response ? ipv4Packet('192.0.2.53', '10.1.0.5', 17, udp(53, 4444, msg)) : ipv4Packet('10.1.0.5', '192.0.2.53', 17, udp(4444, 53, msg)));
}

function run(homeNet: string[] | undefined, frames: [number[], number, number][]): NetEvent[] {
  const events: NetEvent[] = [];
  const p = new Pipeline({ detectors: [], onEvent: (e) => events.push(e), onAlert: () => {}, tracker: homeNet ? { homeNet } : {} });
  for (const [f, sec, nsec] of frames) { const b = Buffer.from(f); p.packet(1, sec, nsec, b, 0, b.length, b.length, 9); }
  p.finish();
  return events;
}

describe('through the tracker', () => {
  it('a DNS answer carries rtt and query_ts; an unanswered query and an unmatched answer are counted; conn says service and locality', () => {
    const events: NetEvent[] = [];
    const p = new Pipeline({ detectors: [], onEvent: (e) => events.push(e), onAlert: () => {}, tracker: { homeNet: ['10.1.0.0/16'] } });
    const send = (f: number[], sec: number, nsec: number): void => { const b = Buffer.from(f); p.packet(1, sec, nsec, b, 0, b.length, b.length, 9); };
    send(dnsFrame(0xabcd, false), 1_700_000_000, 900_000_001);
    send(dnsFrame(0x1111, true), 1_700_000_000, 950_000_000); // no such query
    send(dnsFrame(0xabcd, true), 1_700_000_001, 1);
    send(dnsFrame(0x2222, false), 1_700_000_002, 0); // never answered
    const st = p.finish();
    const dns = events.filter((e): e is DnsEvent => e.type === 'dns');
    expect(dns.map((d) => d.rtt)).toEqual([undefined, undefined, 0.1, undefined]);
    expect(eventToJson(dns[2]!)).toMatch(/"rtt":0\.1,"query_ts":1700000000\.900000001\}$/);
    expect(st.transactions).toEqual({ dns_queries: 2, dns_answered: 1, dns_unmatched_responses: 1, dns_unanswered: 1 });
    const conn = events.find((e): e is ConnEvent => e.type === 'conn')!;
    expect(conn).toMatchObject({ service: 'dns', local_orig: true, local_resp: false });
  });

  it('no HOME_NET configured: conn has no local_orig/local_resp; a flow with nothing recognised has no service', () => {
    const plain = ethernet(ipv4Packet('10.1.0.5', '192.0.2.9', 17, udp(4000, 4001, [1, 2, 3, 4])));
    for (const home of [undefined, []]) {
      const conns = run(home, [[dnsFrame(1, false), 1, 0], [plain, 2, 0]]).filter((e): e is ConnEvent => e.type === 'conn');
      expect(conns).toHaveLength(2);
      for (const c of conns) { expect('local_orig' in c).toBe(false); expect('local_resp' in c).toBe(false); }
      expect(conns.map((c) => c.service)).toEqual(['dns', undefined]);
    }
  });
});
