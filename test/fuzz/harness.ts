/**
 * Fuzz harness: mutated capture files through the real capture reader
 * (pcap, pcapng record parsers, fed in chunks as a stream is) and the real
 * Pipeline (every decoder, TCP reassembly, flows, all detectors), with every
 * event and alert serialised.
 *
 * Input i of a run is a pure function of (seed, i): a crash is reported as
 * its seed and index, and the input can be made again to be saved as a
 * regression file. Crash = an exception escaping (a FormatError on a damaged
 * file is the reader's documented answer, not a crash), an input taking more
 * than HANG_MS, a heap above HEAP_LIMIT, or a serialised line that is not one
 * valid JSON object.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectFormat, FormatError } from '../../src/capture/formats.js';
import { Pipeline } from '../../src/pipeline.js';
import { buildDetectors, detectorDefaults } from '../../src/detect/index.js';
import { CidrSet } from '../../src/util/cidr.js';
import { eventToJson } from '../../src/events/serialize.js';
import { formatJson } from '../../src/alerts/format/json.js';
import type { Alert } from '../../src/alerts/types.js';
import type { NetEvent } from '../../src/events/types.js';
import {
  ascii, dnsName, ethernet, ipv4Header, ipv4Packet, ipv6ExtChain, ipv6Packet, pcapFile, Pcapng, tcp, u16, u32, udp, type Rec,
} from '../helpers/craft.js';

export const HANG_MS = 10_000;
export const HEAP_LIMIT = 1024 * 1024 * 1024;

// ---------------------------------------------------------------- random numbers

/** xorshift32 seeded from (seed, index): the same pair always gives the same input. */
export class Rng {
  private s: number;
  constructor(seed: number, index = 0) {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    this.s = (h ^ (h >>> 16)) >>> 0 || 1;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  /** 0 <= n < max */
  int(max: number): number { return max <= 1 ? 0 : this.u32() % max; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
}

// ---------------------------------------------------------------- seeds

/** A seed: frames of one link type with their times (records), or raw file bytes. */
export interface Seed { name: string; linktype: number; recs: Rec[]; raw?: Buffer }

/** The repository root: from test/fuzz under vitest, from dist-fuzz/test/fuzz when compiled for `npm run fuzz`. */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return existsSync(join(d, 'pcaps')) ? d : resolve(d, '..');
}
export const ROOT = repoRoot();
const BUNDLED = join(ROOT, 'pcaps');
/** Records kept per bundled capture: enough for handshakes, requests and answers; small enough to run fast. */
const MAX_SEED_RECS = 400;

/** Reads a classic pcap into records (the bundled captures are all classic pcap). */
export function recordsOf(file: Buffer): { linktype: number; recs: Rec[] } {
  const recs: Rec[] = [];
  const p = detectFormat(file)!;
  let linktype = 1;
  p.parse(file, 0, file.length, {
    packet(lt, sec, nsec, buf, off, caplen, wirelen) {
      linktype = lt;
      if (recs.length < MAX_SEED_RECS) recs.push({ sec, frac: Math.floor(nsec / 1000), data: [...buf.subarray(off, off + caplen)], orig: wirelen });
    },
  });
  return { linktype, recs };
}

const C4 = '10.0.0.1', S4 = '10.0.0.2', C6 = '2001:db8::1', S6 = '2001:db8::2';
const SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01;
const at = (i: number, data: number[], orig?: number): Rec => ({ sec: 1_700_000_000 + Math.floor(i / 1000), frac: (i % 1000) * 1000, data, orig });

/** A TCP conversation client→server port `dport`, payloads cut into segments of `mss`. */
function tcpConversation(dport: number, client: number[], server: number[], mss = 1448): number[][] {
  const f: number[][] = [];
  const c = (fl: number, pay: number[], seq: number, ack: number) => ethernet(ipv4Packet(C4, S4, 6, tcp(40000, dport, fl, pay, seq, ack)));
  const s = (fl: number, pay: number[], seq: number, ack: number) => ethernet(ipv4Packet(S4, C4, 6, tcp(dport, 40000, fl, pay, seq, ack)));
  f.push(c(SYN, [], 100, 0), s(SYN | ACK, [], 500, 101), c(ACK, [], 101, 501));
  let cs = 101, ss = 501;
  for (let i = 0; i < client.length; i += mss) { const p = client.slice(i, i + mss); f.push(c(ACK | PSH, p, cs, ss)); cs += p.length; }
  for (let i = 0; i < server.length; i += mss) { const p = server.slice(i, i + mss); f.push(s(ACK | PSH, p, ss, cs)); ss += p.length; }
  f.push(c(FIN | ACK, [], cs, ss), s(FIN | ACK, [], ss, cs + 1));
  return f;
}

const header = (id: number, flags: number, qd: number, an: number) => [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), 0, 0, 0, 0];

function tlsClientHello(sni: string): number[] {
  const name = ascii(sni);
  const sniExt = [...u16(0), ...u16(name.length + 5), ...u16(name.length + 3), 0, ...u16(name.length), ...name];
  const alpn = [...u16(16), ...u16(5), ...u16(3), 2, ...ascii('h2')];
  const exts = [...sniExt, ...alpn];
  const body = [3, 3, ...new Array(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0, ...u16(exts.length), ...exts];
  const hs = [1, 0, ...u16(body.length), ...body];
  return [0x16, 3, 1, ...u16(hs.length), ...hs];
}

/** Crafted seeds for what real captures rarely hold: the shapes named in issue 10. */
export function craftedSeeds(): Seed[] {
  const seeds: Seed[] = [];
  const add = (name: string, frames: number[][], linktype = 1) => seeds.push({ name, linktype, recs: frames.map((d, i) => at(i, d)) });

  // DNS pointer loops (self, two-name loop, forward), in a question and in answers, over UDP and TCP.
  const loops = [
    [...header(1, 0x0100, 1, 0), 0xc0, 12, 0, 1, 0, 1],
    [...header(2, 0x8180, 2, 0), 0xc0, 14, 0xc0, 12, 0, 1, 0, 1],
    [...header(3, 0x8180, 1, 3), ...dnsName('a.example'), 0, 1, 0, 1, 0xc0, 0x30, 0, 5, 0, 1, ...u32(60), ...u16(2), 0xc0, 0x2c],
  ];
  add('dns-pointer-loops-udp', loops.map((m) => ethernet(ipv4Packet(C4, S4, 17, udp(5353, 53, m)))));
  add('dns-pointer-loops-tcp', tcpConversation(53, loops.flatMap((m) => [...u16(m.length), ...m]), []));
  const long = Array.from({ length: 5 }, () => [63, ...Array(63).fill(0x61)]).flat();
  add('dns-long-name', [ethernet(ipv4Packet(C4, S4, 17, udp(5353, 53, [...header(4, 0x0100, 1, 0), 3, 0x61, 0x2e, 0x62, ...long, 0, 0, 16, 0, 1])))]);

  // 100 chained IPv6 extension headers in front of a SYN; and an IPv6 fragment chain.
  const [first, chain] = ipv6ExtChain(100, 6, tcp(40000, 22, SYN));
  add('ipv6-100-ext-headers', [ethernet(ipv6Packet(C6, S6, first, chain), 0x86dd)]);

  // A 10,000-fragment IPv4 datagram (8-byte fragments, overlapping past 65535) and an IPv6 one.
  const frags: number[][] = [];
  for (let i = 0; i < 10_000; i++) {
    const off = (i * 8) & 0xffff;
    const more = i < 9_999 ? 0x2000 : 0;
    const pay = i === 0 ? udp(5353, 53, [...header(5, 0x0100, 1, 0)]).slice(0, 8) : new Array(8).fill(i & 255);
    frags.push(ethernet([...ipv4Header(C4, S4, 17, pay.length, { id: 77, frag: more | ((off >> 3) & 0x1fff) }), ...pay]));
  }
  add('ipv4-10000-fragments', frags);
  const frags6: number[][] = [];
  for (let i = 0; i < 2_000; i++) {
    const fh = [17, 0, ...u16(((i * 8) & 0xfff8) | (i < 1_999 ? 1 : 0)), ...u32(0xabcd)];
    frags6.push(ethernet(ipv6Packet(C6, S6, 44, [...fh, ...new Array(8).fill(i & 255)]), 0x86dd));
  }
  add('ipv6-2000-fragments', frags6);

  // HTTP: a megabyte header line, an oversize header block then a request, chunked and keep-alive.
  const mega = ascii('GET /mega HTTP/1.1\r\nX-Long: ' + 'A'.repeat(1 << 20) + '\r\n\r\nGET /after HTTP/1.1\r\nUser-Agent: sqlmap/1.7\r\n\r\n');
  add('http-megabyte-header-line', tcpConversation(80, mega, ascii('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
  add('http-keepalive-chunked', tcpConversation(8080,
    ascii('POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n'),
    ascii('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'), 40));

  // SSH banners and binary packets; a TLS ClientHello split over segments.
  add('ssh', tcpConversation(22, [...ascii('SSH-2.0-OpenSSH_9.2\r\n'), ...u32(28), 4, 20, ...new Array(27).fill(1), ...u32(12), 10, 21, ...new Array(11).fill(0), ...new Array(200).fill(9)],
    [...ascii('SSH-2.0-OpenSSH_9.2p1 Debian\r\n'), ...u32(28), 4, 20, ...new Array(27).fill(2)], 37));
  add('tls-client-hello', tcpConversation(443, tlsClientHello('www.example.com'), [0x16, 3, 3, 0, 4, 2, 0, 0, 0], 50));

  // Other link layers: Linux cooked v1 and v2, BSD NULL and LOOP, raw IP, 802.1Q/QinQ, MPLS.
  const ip = ipv4Packet(C4, S4, 17, udp(5353, 53, [...header(6, 0x0100, 1, 0), ...dnsName('x.test'), 0, 1, 0, 1]));
  add('sll', [[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0, 8, 0, ...ip]], 113);
  add('sll2', [[8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0, ...ip]], 276);
  add('null', [[2, 0, 0, 0, ...ip]], 0);
  add('loop', [[0, 0, 0, 2, ...ip]], 108);
  add('raw', [ip], 101);
  add('vlan-qinq', [ethernet(ip, 0x0800, [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }])]);
  add('mpls', [[...new Array(12).fill(2), 0x88, 0x47, 0, 1, 1, 64, ...ip]]);
  add('ip-in-ip', [ethernet(ipv4Packet('1.1.1.1', '2.2.2.2', 4, ipv4Packet(C4, S4, 6, tcp(1, 80, SYN))))]);

  // pcapng: several interfaces and block types; and block lengths up to 4 GiB.
  const ng = new Pcapng().shb().idb(1, 9).idb(101).epb(0, 1_700_000_000_000_000_000n, ethernet(ip)).epb(1, 1n, ip).spb(ethernet(ip)).opb(0, 2n, ethernet(ip)).unknown().build();
  seeds.push({ name: 'pcapng', linktype: 1, recs: [], raw: ng });
  for (const len of [0xfffffffc, 0x80000000, 0x10000000, 0x01000004, 0]) {
    const b = Buffer.from(new Pcapng().shb().idb(1).epb(0, 1n, ethernet(ip)).build());
    b.writeUInt32LE(len, 28 + 20 + 4); // the enhanced packet block's length
    seeds.push({ name: `pcapng-block-length-${len.toString(16)}`, linktype: 1, recs: [], raw: b });
  }
  return seeds;
}

let cachedSeeds: Seed[] | null = null;

/** The seed corpus: every bundled capture (its first MAX_SEED_RECS records) and the crafted seeds. */
export function seedCorpus(): Seed[] {
  if (cachedSeeds) return cachedSeeds;
  const seeds: Seed[] = [];
  for (const f of readdirSync(BUNDLED).filter((n) => n.endsWith('.pcap')).sort()) {
    const { linktype, recs } = recordsOf(readFileSync(join(BUNDLED, f)));
    seeds.push({ name: f, linktype, recs });
  }
  cachedSeeds = [...seeds, ...craftedSeeds()];
  return cachedSeeds;
}

// ---------------------------------------------------------------- mutation

/** Values a length field may lie with. */
const LIES = [0, 1, 2, 3, 4, 7, 8, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff, 0x100, 0x5dc, 0x7fff, 0x8000, 0xfffe, 0xffff,
  0x10000, 0x40000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffc, 0xffffffff];

/** Offsets of length and header fields in an Ethernet/IPv4/TCP-or-UDP frame (where lies matter most). */
const FIELD_OFFSETS = [12, 14, 16, 17, 20, 22, 23, 24, 34, 36, 38, 40, 44, 46, 47, 50, 52, 54, 56, 58];

function mutateFrame(r: Rng, d: number[]): number[] {
  if (d.length === 0) return d;
  const a = d.slice();
  const n = 1 + r.int(4);
  for (let k = 0; k < n && a.length > 0; k++) {
    const pos = r.chance(0.5) ? r.pick(FIELD_OFFSETS) % a.length : r.int(a.length);
    switch (r.int(7)) {
      case 0: a[pos] = a[pos]! ^ (1 << r.int(8)); break; // bit flip
      case 1: a[pos] = r.int(256); break;
      case 2: { // a lying 16-bit length
        const v = r.pick(LIES) & 0xffff;
        a[pos] = v >> 8; if (pos + 1 < a.length) a[pos + 1] = v & 255;
        break;
      }
      case 3: { // a lying 32-bit field
        const v = r.pick(LIES);
        for (let j = 0; j < 4 && pos + j < a.length; j++) a[pos + j] = (v >>> (24 - 8 * j)) & 255;
        break;
      }
      case 4: a.length = pos; break; // truncation
      case 5: a.splice(pos, 0, ...new Array(1 + r.int(64)).fill(r.int(256))); break; // insertion
      default: a.splice(pos, 1 + r.int(16)); break; // deletion
    }
  }
  return a;
}

function mutateRecords(r: Rng, recs: Rec[]): Rec[] {
  // A window of the capture, so that each input is small and different parts get their turn.
  const start = recs.length > 64 && r.chance(0.7) ? r.int(recs.length - 32) : 0;
  const len = recs.length > 64 && r.chance(0.7) ? 16 + r.int(160) : recs.length;
  let out = recs.slice(start, start + len).map((x) => ({ ...x }));
  const n = out.length === 0 ? 0 : 1 + r.int(6);
  for (let k = 0; k < n; k++) {
    const i = r.int(out.length);
    const rec = out[i];
    if (!rec) break;
    switch (r.int(8)) {
      case 0: case 1: case 2: rec.data = mutateFrame(r, rec.data); rec.orig = rec.data.length; break;
      case 3: { // snap-length cut: fewer bytes captured than were on the wire
        const cut = r.int(rec.data.length + 1);
        rec.orig = Math.max(rec.orig ?? rec.data.length, rec.data.length); rec.data = rec.data.slice(0, cut);
        break;
      }
      case 4: out.splice(i, 1); break; // a lost packet
      case 5: out.splice(i, 0, { ...rec }); break; // a duplicate
      case 6: { const j = r.int(out.length); [out[i], out[j]] = [out[j]!, rec]; break; } // reordering
      default: rec.sec = r.chance(0.5) ? rec.sec - r.int(100_000) : rec.sec + r.int(100_000); break; // time jumps
    }
  }
  if (r.chance(0.05)) out = out.concat(out); // the same packets again: retransmissions at scale
  return out;
}

/** Byte-level damage to a whole file: headers, record lengths, the tail. */
function mutateFile(r: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const n = r.int(3);
  for (let k = 0; k < n && out.length > 0; k++) {
    const pos = r.chance(0.3) ? r.int(Math.min(out.length, 64)) : r.int(out.length);
    if (r.chance(0.5)) out[pos] = out[pos]! ^ (1 << r.int(8));
    else if (pos + 4 <= out.length) out.writeUInt32LE(r.pick(LIES) >>> 0, pos);
  }
  if (r.chance(0.1)) return out.subarray(0, r.int(out.length + 1));
  return out;
}

/** Input `index` of a run with `seed`: a capture file (pcap or pcapng, either byte order). */
export function generate(seed: number, index: number): { bytes: Buffer; seedName: string } {
  const r = new Rng(seed, index);
  const seeds = seedCorpus();
  const s = r.pick(seeds);
  if (s.raw) return { bytes: mutateFile(r, s.raw), seedName: s.name };
  const recs = r.chance(0.1) ? s.recs.slice() : mutateRecords(r, s.recs);
  let file: Buffer;
  if (r.chance(0.2)) {
    const ng = new Pcapng(r.chance(0.8)).shb().idb(s.linktype, r.chance(0.5) ? 9 : undefined);
    for (const x of recs) ng.epb(0, BigInt(x.sec) * 1_000_000n + BigInt(x.frac), x.data, x.orig);
    file = ng.build();
  } else {
    file = pcapFile(recs, { le: r.chance(0.8), ns: r.chance(0.2), linktype: s.linktype });
  }
  return { bytes: r.chance(0.3) ? mutateFile(r, file) : file, seedName: s.name };
}

// ---------------------------------------------------------------- running one input

export interface Outcome {
  packets: number;
  events: number;
  alerts: number;
  /** the reader stopped at damage (a FormatError or a truncated tail): expected for mutated files */
  damaged: boolean;
  ms: number;
}

/** Thrown for a serialised line that is not exactly one JSON object: a finding like a crash. */
export class BadLine extends Error {}

function checkLine(line: string, what: string): void {
  if (line.includes('\n') || line.includes('\r')) throw new BadLine(`${what}: line break in a serialised line`);
  const v: unknown = JSON.parse(line);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadLine(`${what}: not a JSON object`);
}

const FORMAT_CTX = { hostname: 'fuzz', sensor: 'fuzz', version: '0' };
const HOME = CidrSet.parse(['10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12', 'fc00::/7']);

/**
 * Reads `bytes` as a capture through a fresh Pipeline (every detector enabled
 * unless told not to), delivering the file in chunks at `split` boundaries (as a pipe
 * delivers it, so partial records are carried over). Throws only on a crash.
 */
export function runInput(bytes: Buffer, split = 0, detectors = true): Outcome {
  const t0 = performance.now();
  let events = 0, alerts = 0;
  const p = new Pipeline({
    // Building all detectors costs more than most inputs take to run: the generated inputs get them one time in four.
    detectors: detectors ? buildDetectors(detectorDefaults(), { homeNet: HOME }) : [],
    // A small flow table, so that eviction runs too.
    tracker: { maxFlows: 512 },
    onEvent: (e: NetEvent) => { events++; checkLine(eventToJson(e), `event ${e.type}`); },
    onAlert: (a: Alert) => { alerts++; checkLine(formatJson(a, FORMAT_CTX), `alert ${a.kind}`); },
  });
  let damaged = false;
  const parser = detectFormat(bytes);
  if (parser === null) return { packets: 0, events, alerts, damaged: true, ms: performance.now() - t0 };
  try {
    if (split <= 0 || split >= bytes.length) {
      damaged = parser.parse(bytes, 0, bytes.length, p) < bytes.length;
    } else {
      let tail = Buffer.alloc(0);
      for (let off = 0; off < bytes.length; off += split) {
        const chunk = Buffer.concat([tail, bytes.subarray(off, off + split)]);
        const used = parser.parse(chunk, 0, chunk.length, p);
        tail = Buffer.from(chunk.subarray(used));
      }
      damaged = tail.length > 0;
    }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    damaged = true;
  }
  p.finish();
  return { packets: parser.packets, events, alerts, damaged, ms: performance.now() - t0 };
}

/** Runs input `index` of `seed` (chunked for one in four inputs); throws on a crash, including a hang or heap above the bound. */
export function runGenerated(seed: number, index: number): Outcome & { seedName: string } {
  const { bytes, seedName } = generate(seed, index);
  const split = index % 4 === 3 ? 1 + (index % 4093) : 0;
  const o = runInput(bytes, split, index % 4 === 0);
  if (o.ms > HANG_MS) throw new Error(`hang: input took ${Math.round(o.ms)} ms (bound ${HANG_MS})`);
  const heap = process.memoryUsage().heapUsed;
  if (heap > HEAP_LIMIT) throw new Error(`heap ${Math.round(heap / 1048576)} MiB above the bound ${HEAP_LIMIT / 1048576} MiB`);
  return { ...o, seedName };
}

export const REGRESSIONS = join(ROOT, 'test/fuzz/regressions');
