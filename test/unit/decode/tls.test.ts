import { describe, it, expect } from 'vitest';
import {
  TlsClientHalf, looksLikeTlsClientHello, looksLikeStartTls, parseClientHelloRecords, tlsVersionName,
  MAX_HELLO, type TlsClientHelloInfo,
} from '../../../src/decode/tls.js';
import { ethernet, ipv4Packet, tcp, ascii } from '../../helpers/craft.js';
import { runFrames } from '../../helpers/collect.js';
import type { NetEvent, PacketTime, TlsClientHelloEvent } from '../../../src/events/types.js';

const t = (s: number): PacketTime => ({ ts: s, tsSec: s, tsNsec: 0, tsDigits: 6 });
const u16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
const u24 = (n: number): number[] => [(n >> 16) & 255, (n >> 8) & 255, n & 255];

/** One extension: type, length, body. */
const ext = (type: number, body: number[]): number[] => [...u16(type), ...u16(body.length), ...body];
const sniExt = (name: string | number[]): number[] => {
  const b = typeof name === 'string' ? ascii(name) : name;
  return ext(0, [...u16(b.length + 3), 0, ...u16(b.length), ...b]);
};
const alpnExt = (names: string[]): number[] => {
  const list = names.flatMap((n) => [n.length, ...ascii(n)]);
  return ext(16, [...u16(list.length), ...list]);
};
const versionsExt = (vs: number[]): number[] => ext(43, [vs.length * 2, ...vs.flatMap(u16)]);

interface HelloOpts { version?: number; sid?: number; ciphers?: number[]; compression?: number[]; exts?: number[] | null }

/** A ClientHello body (after the 4-byte handshake header). */
function helloBody(o: HelloOpts = {}): number[] {
  const ciphers = o.ciphers ?? [0x1301, 0x1302, 0xc02b];
  const body = [
    ...u16(o.version ?? 0x0303), ...new Array<number>(32).fill(7),
    o.sid ?? 32, ...new Array<number>(o.sid ?? 32).fill(9),
    ...u16(ciphers.length * 2), ...ciphers.flatMap(u16),
    ...(o.compression ? [o.compression.length, ...o.compression] : [1, 0]),
  ];
  if (o.exts !== null) {
    const exts = o.exts ?? [...sniExt('example.com'), ...alpnExt(['h2', 'http/1.1']), ...versionsExt([0x2a2a, 0x0304, 0x0303])];
    body.push(...u16(exts.length), ...exts);
  }
  return body;
}

/** Handshake message: type 1, 24-bit length, body. */
const handshake = (body: number[], type = 1): number[] => [type, ...u24(body.length), ...body];
/** One TLS record (content type 22 unless told). */
const record = (payload: number[], type = 0x16, version = 0x0301): number[] => [type, ...u16(version), ...u16(payload.length), ...payload];
const helloRecord = (o: HelloOpts = {}): number[] => record(handshake(helloBody(o)));

/** Feeds segments to a client half; returns what it reported (undefined: nothing yet). */
function feed(segments: number[][], gapAfter = -1): { got: (TlsClientHelloInfo | null)[]; half: TlsClientHalf } {
  const got: (TlsClientHelloInfo | null)[] = [];
  const half = new TlsClientHalf((h) => got.push(h));
  segments.forEach((s, i) => {
    const b = Buffer.from(s);
    half.data(b, 0, b.length, t(100 + i));
    if (i === gapAfter) half.gap();
  });
  return { got, half };
}

function one(segments: number[][]): TlsClientHelloInfo | null {
  const { got } = feed(segments);
  expect(got).toHaveLength(1);
  return got[0]!;
}

describe('TLS ClientHello: recognising it', () => {
  it('takes a handshake record of version 3.x whose first message is a ClientHello', () => {
    const r = Buffer.from(helloRecord());
    expect(looksLikeTlsClientHello(r, 0, r.length)).toBe(true);
    expect(looksLikeTlsClientHello(Buffer.from(record(handshake(helloBody()), 0x16, 0x0303)), 0, 20)).toBe(true);
  });

  it('does not take other records, other handshake messages, HTTP or SSH', () => {
    const no = (b: number[] | string): boolean => {
      const x = Buffer.from(typeof b === 'string' ? ascii(b) : b);
      return looksLikeTlsClientHello(x, 0, x.length);
    };
    expect(no(record(handshake(helloBody(), 2)))).toBe(false); // ServerHello
    expect(no(record([1, 2, 3, 4, 5], 0x17))).toBe(false); // application data
    expect(no(record(handshake(helloBody()), 0x16, 0x0305))).toBe(false);
    expect(no([0x16, 0x03, 0x01, 0x00])).toBe(false); // too short to know
    expect(no('GET / HTTP/1.1\r\n')).toBe(false);
    expect(no('SSH-2.0-x\r\n')).toBe(false);
  });

  it('recognises STARTTLS requests of text protocols', () => {
    const s = (x: string): boolean => { const b = Buffer.from(x, 'latin1'); return looksLikeStartTls(b, 0, b.length); };
    expect(s('STARTTLS\r\n')).toBe(true);
    expect(s('starttls\n')).toBe(true);
    expect(s('STLS\r\n')).toBe(true);
    expect(s('a1 STARTTLS\r\n')).toBe(true);
    expect(s('a1 STLS\r\n')).toBe(false);
    expect(s('MAIL FROM STARTTLS\r\n')).toBe(false);
    expect(s('STARTTLS')).toBe(false); // no end of line
    expect(s('STARTTLSX\r\n')).toBe(false);
  });

  it('names versions as Zeek does', () => {
    expect([0x0300, 0x0301, 0x0302, 0x0303, 0x0304].map(tlsVersionName)).toEqual(['SSLv3', 'TLSv10', 'TLSv11', 'TLSv12', 'TLSv13']);
    expect(tlsVersionName(0x7f1c)).toBe('TLSv13-draft28');
    expect(tlsVersionName(0x0305)).toBe('unknown-773');
  });
});

describe('TLS ClientHello: reading it', () => {
  it('reads server name, ALPN, preferred version (GREASE skipped), cipher count and size', () => {
    const rec = helloRecord();
    const h = one([rec])!;
    expect(h).toMatchObject({ sni: 'example.com', alpn: ['h2', 'http/1.1'], version: 'TLSv13', helloVersion: 0x0303, ciphers: 3, size: rec.length });
    expect(h.extensions).toEqual([0, 16, 43]);
    expect(h.t.ts).toBe(100);
  });

  it('reports a hello without extensions (old clients) with its own version and no SNI', () => {
    const h = one([helloRecord({ version: 0x0301, exts: null })])!;
    expect(h).toMatchObject({ sni: null, alpn: [], version: 'TLSv10', extensions: [] });
  });

  it('reports a hello without server_name with sni null', () => {
    expect(one([helloRecord({ exts: [...alpnExt(['h2'])] })])).toMatchObject({ sni: null, alpn: ['h2'], version: 'TLSv12' });
  });

  it('escapes control bytes and backslashes in the server name and ALPN names', () => {
    const h = one([helloRecord({ exts: [...sniExt([0x65, 0x0a, 0x1b, 0x5c, 0xff, 0x2e, 0x63]), ...alpnExt(['a\r\nb'])] })])!;
    expect(h.sni).toBe('e\\x0a\\x1b\\x5c\\xff.c');
    expect(h.alpn).toEqual(['a\\x0d\\x0ab']);
  });

  it('joins a hello split over segments, even inside the record header, and stamps it with the first segment', () => {
    const rec = helloRecord();
    const h = one([rec.slice(0, 3), rec.slice(3, 50), rec.slice(50, 51), rec.slice(51)])!;
    expect(h).toMatchObject({ sni: 'example.com', size: rec.length });
    expect(h.t.ts).toBe(100);
  });

  it('joins a hello split over several records (handshake fragmentation), header split too', () => {
    const hs = handshake(helloBody());
    const recs = [...record(hs.slice(0, 2)), ...record(hs.slice(2, 100)), ...record(hs.slice(100))];
    const h = one([recs.slice(0, 60), recs.slice(60)])!;
    expect(h).toMatchObject({ sni: 'example.com', alpn: ['h2', 'http/1.1'], size: recs.length });
  });

  it('reads only the first hello; later bytes of the stream are ignored', () => {
    const { got, half } = feed([[...helloRecord(), ...record([1], 0x14)], helloRecord({ exts: [...sniExt('other.example')] })]);
    expect(got).toHaveLength(1);
    expect(got[0]!.sni).toBe('example.com');
    expect(half.finished).toBe(true);
  });

  it('reads the first host_name entry of the server_name list', () => {
    const other = [1, ...u16(3), ...ascii('abc')];
    const name = [0, ...u16(5), ...ascii('b.com')];
    const list = [...other, ...name];
    expect(one([helloRecord({ exts: ext(0, [...u16(list.length), ...list]) })])!.sni).toBe('b.com');
  });
});

describe('TLS ClientHello: malformed input', () => {
  const bad = (segments: number[][]): void => { expect(one(segments)).toBeNull(); };

  it('gives no hello for a record that is not a handshake, or a first message that is not a ClientHello', () => {
    bad([record(handshake(helloBody()), 0x17)]);
    bad([record(handshake(helloBody(), 2))]);
  });

  it('gives no hello for a zero or oversized record length', () => {
    bad([[0x16, 3, 1, 0, 0, 1, 0, 0, 0]]);
    bad([[0x16, 3, 1, 0x48, 0x01, 1, 0, 0, 0]]); // 18433 > 2^14 + 2048
  });

  it('gives no hello when the fixed part does not fit its lengths', () => {
    bad([helloRecord({ sid: 33 })]);
    bad([record(handshake([...u16(0x0303), ...new Array<number>(20).fill(0)]))]); // random cut short
    const oddCiphers = helloBody();
    oddCiphers[35 + 32 + 1] = 5; // cipher_suites length 5: odd
    bad([record(handshake(oddCiphers))]);
    const longCiphers = helloBody();
    longCiphers[35 + 32] = 0x7f; // cipher_suites length runs past the message
    bad([record(handshake(longCiphers))]);
    bad([helloRecord({ compression: [] })]);
  });

  it('keeps what was read before an extension whose length runs past the block', () => {
    const exts = [...sniExt('kept.example'), ...u16(16), ...u16(500), ...alpnExt(['h2'])];
    expect(one([helloRecord({ exts })])).toMatchObject({ sni: 'kept.example', alpn: [], extensions: [0] });
  });

  it('tolerates an extensions length that claims more than the message holds', () => {
    const body = helloBody({ exts: [...sniExt('a.example')] });
    const at = body.length - sniExt('a.example').length - 2;
    body[at] = 0x0f; // extensions length now > remaining bytes
    expect(one([record(handshake(body))])).toMatchObject({ sni: 'a.example' });
  });

  it('gives sni null for a server_name whose entry overruns its list, and stops ALPN at a bad entry', () => {
    const sn = [...u16(8), 0, ...u16(40), ...ascii('abcde')];
    const alpn = [...u16(7), 2, ...ascii('h2'), 9, ...ascii('ab')];
    expect(one([helloRecord({ exts: [...ext(0, sn), ...ext(16, alpn)] })])).toMatchObject({ sni: null, alpn: ['h2'] });
  });

  it('gives up on a hello larger than the bound, and on a stream that never completes its record within it', () => {
    bad([record([1, ...u24(MAX_HELLO), 3, 3])]);
    // A record of 18000 bytes (more than a TLS record may hold, less than our record limit):
    // the hello in it is complete only after more bytes than we hold.
    const big = record(handshake(helloBody()), 0x16);
    big[3] = 18000 >> 8; big[4] = 18000 & 255;
    const chunks = [big];
    for (let i = 0; i < 20; i++) chunks.push(new Array<number>(1000).fill(0));
    const { got } = feed(chunks);
    expect(got).toEqual([null]);
    // 16384 bytes (the largest plaintext record) with the same small hello in front: read.
    const full = record([...handshake(helloBody()), ...new Array<number>(16384 - 4 - helloBody().length).fill(0)]);
    expect(one([full.slice(0, 9000), full.slice(9000)])).toMatchObject({ sni: 'example.com', size: 16389 });
  });

  it('reads a hello whose end arrives in a large segment together with much more data', () => {
    const rec = helloRecord();
    expect(one([rec.slice(0, 100), [...rec.slice(100), ...record(new Array<number>(30000 - 5).fill(1).slice(0, 16000), 0x17), ...new Array<number>(20000).fill(2)]])).toMatchObject({ sni: 'example.com' });
  });

  it('gives no hello when bytes are lost before it is complete', () => {
    const rec = helloRecord();
    const { got } = feed([rec.slice(0, 40), rec.slice(40)], 0);
    expect(got).toEqual([null]);
  });

  it('returns "need more" for a prefix, never a result or a crash, at every cut of a valid hello', () => {
    const rec = Buffer.from(helloRecord());
    for (let i = 0; i < rec.length; i++) expect(parseClientHelloRecords(rec, 0, i, t(1))).toBe(0);
  });

  it('never throws on random corruptions of a valid hello', () => {
    const rec = helloRecord();
    let seed = 7;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    for (let k = 0; k < 3000; k++) {
      const c = rec.slice();
      for (let j = 0; j < 1 + rnd(4); j++) c[rnd(c.length)] = rnd(256);
      const cut = rnd(c.length + 1);
      expect(() => feed([c.slice(0, cut), c.slice(cut)])).not.toThrow();
    }
  });
});

describe('TLS ClientHello through the flow tracker', () => {
  const C = '10.0.0.1', S = '10.0.0.2';
  const SYN = 0x02, ACK = 0x10, PSH = 0x08;
  const c2s = (dport: number, flags: number, payload: number[] = [], seq = 100, ack = 0) => ethernet(ipv4Packet(C, S, 6, tcp(40000, dport, flags, payload, seq, ack)));
  const s2c = (sport: number, flags: number, payload: number[] = [], seq = 500, ack = 0) => ethernet(ipv4Packet(S, C, 6, tcp(sport, 40000, flags, payload, seq, ack)));
  const hellos = (ev: NetEvent[]) => ev.filter((e): e is TlsClientHelloEvent => e.type === 'tls_client_hello');
  const handshakeFrames = (port: number) => [
    { data: c2s(port, SYN, [], 100), ts: 10 },
    { data: s2c(port, SYN | ACK, [], 500, 101), ts: 10.1 },
    { data: c2s(port, ACK, [], 101, 501), ts: 10.2 },
  ];

  it('emits tls_client_hello for the client, once, at the hello segment, and reads nothing after it', () => {
    const rec = helloRecord();
    const { events } = runFrames([
      ...handshakeFrames(443),
      { data: c2s(443, ACK | PSH, rec.slice(0, 100), 101, 501), ts: 10.3 },
      { data: c2s(443, ACK | PSH, rec.slice(100), 201, 501), ts: 10.4 },
      { data: s2c(443, ACK | PSH, record(handshake([3, 3], 2)), 501, 101 + rec.length), ts: 10.5 },
      { data: c2s(443, ACK | PSH, helloRecord({ exts: [...sniExt('later.example')] }), 101 + rec.length, 520), ts: 10.6 },
    ]);
    const h = hellos(events);
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ src: C, sport: 40000, dst: S, dport: 443, proto: 'tcp', sni: 'example.com', version: 'TLSv13', alpn: ['h2', 'http/1.1'], size: rec.length });
    expect(h[0]!.ts).toBeCloseTo(10.3, 6);
  });

  it('finds TLS on any port by content, and the client is whoever sends the hello', () => {
    const { events } = runFrames([{ data: s2c(8443, ACK | PSH, helloRecord(), 900, 100), ts: 1 }]);
    expect(hellos(events)).toMatchObject([{ src: S, sport: 8443, dst: C, dport: 40000 }]);
  });

  it('follows a POP3 STLS exchange to the hello', () => {
    const { events } = runFrames([
      ...handshakeFrames(110),
      { data: s2c(110, ACK | PSH, ascii('+OK POP3 ready\r\n'), 501, 101), ts: 11 },
      { data: c2s(110, ACK | PSH, ascii('STLS\r\n'), 101, 517), ts: 12 },
      { data: s2c(110, ACK | PSH, ascii('+OK Begin TLS negotiation\r\n'), 517, 107), ts: 13 },
      { data: c2s(110, ACK | PSH, helloRecord({ exts: [...sniExt('mail.example')] }), 107, 544), ts: 14 },
    ]);
    expect(hellos(events)).toMatchObject([{ sni: 'mail.example', dport: 110 }]);
  });

  it('follows an SMTP STARTTLS (a flow first taken for HTTP) to the hello', () => {
    const ehlo = ascii('EHLO client.example\r\n'), st = ascii('STARTTLS\r\n');
    const { events } = runFrames([
      ...handshakeFrames(25),
      { data: s2c(25, ACK | PSH, ascii('220 mx ESMTP\r\n'), 501, 101), ts: 11 },
      { data: c2s(25, ACK | PSH, ehlo, 101, 515), ts: 12 },
      { data: s2c(25, ACK | PSH, ascii('250-mx\r\n250 STARTTLS\r\n'), 515, 101 + ehlo.length), ts: 13 },
      { data: c2s(25, ACK | PSH, st, 101 + ehlo.length, 537), ts: 14 },
      { data: s2c(25, ACK | PSH, ascii('220 go ahead\r\n'), 537, 101 + ehlo.length + st.length), ts: 15 },
      { data: c2s(25, ACK | PSH, helloRecord({ exts: [...sniExt('mx.example')] }), 101 + ehlo.length + st.length, 551), ts: 16 },
    ]);
    expect(hellos(events)).toMatchObject([{ sni: 'mx.example', dport: 25, src: C }]);
  });

  it('follows an HTTP CONNECT tunnel to the hello', () => {
    const req = ascii('CONNECT secure.example:443 HTTP/1.1\r\nHost: secure.example:443\r\n\r\n');
    const resp = ascii('HTTP/1.1 200 Connection established\r\n\r\n');
    const { events } = runFrames([
      ...handshakeFrames(3128),
      { data: c2s(3128, ACK | PSH, req, 101, 501), ts: 11 },
      { data: s2c(3128, ACK | PSH, resp, 501, 101 + req.length), ts: 12 },
      { data: c2s(3128, ACK | PSH, helloRecord({ exts: [...sniExt('secure.example')] }), 101 + req.length, 501 + resp.length), ts: 13 },
    ]);
    expect(events.filter((e) => e.type === 'http_request')).toHaveLength(1);
    expect(hellos(events)).toMatchObject([{ sni: 'secure.example', dport: 3128 }]);
  });

  it('does not take TLS-looking bytes in an HTTP connection that carried requests (no CONNECT) for a hello', () => {
    const req = ascii('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    const { events } = runFrames([
      ...handshakeFrames(80),
      { data: c2s(80, ACK | PSH, req, 101, 501), ts: 11 },
      { data: c2s(80, ACK | PSH, helloRecord(), 101 + req.length, 501), ts: 12 },
    ]);
    expect(events.filter((e) => e.type === 'http_request')).toHaveLength(1);
    expect(hellos(events)).toHaveLength(0);
  });
});
