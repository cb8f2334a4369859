/**
 * Property tests (fast-check) beside the fuzzer: for arbitrary bytes,
 * decoding never throws; every string that leaves a decoder is escaped text
 * (printable ASCII, every backslash starting an escape); every serialised
 * event and alert is exactly one valid JSON line.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Packet } from '../../src/decode/packet.js';
import { decodePacket } from '../../src/decode/decode.js';
import { parseDns, DnsTcpHalf } from '../../src/decode/dns.js';
import { HttpConnection, HttpHalf } from '../../src/decode/http.js';
import { SshConnection, SshHalf } from '../../src/decode/ssh.js';
import { TlsClientHalf } from '../../src/decode/tls.js';
import { safeString, safeText } from '../../src/decode/text.js';
import { Pipeline } from '../../src/pipeline.js';
import { eventToJson } from '../../src/events/serialize.js';
import { formatEcs, formatJson } from '../../src/alerts/format/index.js';
import type { Alert } from '../../src/alerts/types.js';
import type { NetEvent, PacketTime } from '../../src/events/types.js';
import type { StreamConsumer } from '../../src/flows/stream.js';
import { ethernet, ipv4Packet, ipv6Packet, tcp, udp } from '../helpers/craft.js';

const RUNS = { numRuns: 300, seed: 4242 };
const T: PacketTime = { ts: 1, tsSec: 1, tsNsec: 0, tsDigits: 6 };
const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

/** Escaped text: printable ASCII only, and a backslash only as `\xNN` or (in DNS names) `\.`. */
const ESCAPED = /^(?:[\x20-\x5b\x5d-\x7e]|\\x[0-9a-f]{2}|\\\.)*$/;

/** Every string anywhere in a value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

function oneJsonLine(line: string): void {
  expect(line).not.toMatch(/[\r\n]/);
  const v: unknown = JSON.parse(line);
  expect(v !== null && typeof v === 'object' && !Array.isArray(v)).toBe(true);
}

/** Bytes cut into segments at arbitrary points, some followed by a gap (lost or snap-length-cut bytes). */
const segmented = fc.tuple(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.tuple(fc.nat(3000), fc.nat(4), fc.nat(5000)), { maxLength: 12 }));

function feed(c: StreamConsumer, [bytes, cuts]: [Uint8Array, [number, number, number][]]): void {
  const b = Buffer.from(bytes);
  const points = [...new Set(cuts.map(([p]) => p % (b.length + 1)))].sort((x, y) => x - y);
  let off = 0;
  for (const [i, p] of points.entries()) {
    if (p > off) c.data(b, off, p - off, T);
    const [, g, n] = cuts[i]!;
    if (g === 1) c.gap(n, false); else if (g === 2) c.gap(n, true);
    off = Math.max(off, p);
  }
  if (b.length > off) c.data(b, off, b.length - off, T);
}

describe('properties: decoding arbitrary bytes', () => {
  it('decodePacket never throws, for any link type and any bytes', () => {
    const p = new Packet();
    fc.assert(fc.property(fc.constantFrom(...LINKTYPES), fc.uint8Array({ maxLength: 1600 }), (lt, bytes) => {
      const b = Buffer.from(bytes);
      decodePacket(p, lt, b, 0, b.length);
    }), RUNS);
  });

  it('parseDns never throws and every name and datum it returns is escaped text', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
      const m = parseDns(Buffer.from(bytes), 0, bytes.length);
      if (m) for (const s of strings(m)) expect(s).toMatch(ESCAPED);
    }), { ...RUNS, numRuns: 1000 });
  });

  it('the stream parsers (HTTP, DNS over TCP, SSH, TLS) never throw on arbitrary segments and gaps, and report escaped text only', () => {
    fc.assert(fc.property(segmented, segmented, (a, b) => {
      const out: unknown[] = [];
      const http = new HttpConnection({ request: (r) => out.push(r), response: (r) => out.push(r) });
      feed(new HttpHalf(true, http), a); feed(new HttpHalf(false, http), b);
      feed(new DnsTcpHalf((m) => out.push(m)), a);
      const ssh = new SshConnection({ banner: (_c, s) => out.push(s), auth: () => {} });
      feed(new SshHalf(true, ssh), a); feed(new SshHalf(false, ssh), b);
      feed(new TlsClientHalf((h) => out.push(h)), a);
      for (const s of strings(out)) expect(s).toMatch(ESCAPED);
    }), RUNS);
  });

  it('escaping keeps nothing but printable ASCII and is reversible (no two inputs read the same)', () => {
    const unescape = (s: string) => Buffer.from(s.replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const s = safeText(Buffer.from(bytes), 0, bytes.length);
      expect(s).toMatch(ESCAPED);
      expect(unescape(s).equals(Buffer.from(bytes))).toBe(true);
    }), RUNS);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (str) => { expect(safeString(str)).toMatch(/^[\x20-\x7e]*$/); }), RUNS);
  });
});

/** Frames whose payloads reach the application parsers: DNS on 53, HTTP/SSH/TLS over TCP, arbitrary bytes after real headers. */
const frame = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((p) => ethernet(ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(5353, 53, [...p])))),
  fc.tuple(fc.constantFrom('GET / HTTP/1.1\r\nHost: ', 'HTTP/1.1 200 OK\r\nServer: ', 'SSH-2.0-', '\x16\x03\x01\x00\x40\x01', ''), fc.uint8Array({ maxLength: 600 }), fc.nat(3), fc.nat(1 << 16))
    .map(([head, p, dir, seq]) => {
      // a header block that ends, so that requests and responses are reported with the arbitrary bytes in them
      const pay = [...Buffer.from(head, 'latin1'), ...p, ...(head.includes('HTTP') ? [13, 10, 13, 10] : [])];
      return dir === 0 ? ethernet(ipv4Packet('10.0.0.1', '10.0.0.2', 6, tcp(40000, 80, 0x18, pay, 1000 + seq, 1)))
        : dir === 1 ? ethernet(ipv4Packet('10.0.0.2', '10.0.0.1', 6, tcp(80, 40000, 0x18, pay, 5000 + seq, 1)))
        : ethernet(ipv6Packet('2001:db8::1', '2001:db8::2', 6, tcp(40001, 22, dir === 2 ? 0x02 : 0x18, pay, 7 + seq)), 0x86dd);
    }),
  fc.uint8Array({ maxLength: 200 }).map((p) => [...p]),
);

describe('properties: what leaves the pipeline', () => {
  it('for arbitrary frames (also cut by a snap length), the pipeline never throws; every string in every event is escaped text and every event is one JSON line', () => {
    let seen = 0;
    fc.assert(fc.property(fc.array(fc.tuple(frame, fc.nat(2000)), { maxLength: 30 }), (frames) => {
      const events: NetEvent[] = [];
      const p = new Pipeline({ detectors: [], onEvent: (e) => events.push(e), onAlert: () => {} });
      frames.forEach(([f, cut], i) => {
        const b = Buffer.from(f);
        p.packet(1, 1_700_000_000 + i, 0, b, 0, Math.min(b.length, cut), b.length, 6);
      });
      p.finish();
      seen += events.filter((e) => e.type === 'http_request' || e.type === 'http_response' || e.type === 'dns').length;
      for (const e of events) {
        for (const s of strings(e)) expect(s).toMatch(ESCAPED);
        oneJsonLine(eventToJson(e));
      }
    }), RUNS);
    // the arbitrary bytes did reach the application parsers
    expect(seen).toBeGreaterThan(100);
  });

  it('every alert, whatever its strings and numbers hold, serialises (JSON and ECS) to one valid JSON line of printable ASCII', () => {
    const text = fc.string({ unit: 'binary', maxLength: 80 });
    const num = fc.oneof(fc.double(), fc.integer(), fc.constant(Number.NaN), fc.constant(Infinity));
    const alert = fc.record({
      kind: text, severity: fc.constantFrom('low', 'medium', 'high', 'critical'), confidence: num,
      src: fc.option(text, { nil: undefined }), dst: fc.option(text, { nil: undefined }), dport: fc.option(fc.integer(), { nil: undefined }),
      ts: num, ts_first: num, ts_last: num, summary: text,
      evidence: fc.dictionary(text, fc.oneof(text, num, fc.array(text, { maxLength: 3 }), fc.bigInt())),
      technique: fc.option(text, { nil: undefined }),
    }) as fc.Arbitrary<Alert>;
    const ctx = { hostname: 'h', sensor: 's', version: '0' };
    fc.assert(fc.property(alert, (a) => {
      for (const line of [formatJson(a, ctx), formatEcs(a, ctx)]) {
        expect(line).toMatch(/^[\x20-\x7e]*$/);
        oneJsonLine(line);
      }
    }), RUNS);
  });
});
