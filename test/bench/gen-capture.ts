/**
 * Deterministic synthetic capture for benchmarks.
 *
 * Writes a classic pcap (little-endian, microsecond, LINKTYPE_ETHERNET) whose
 * traffic looks like ~10 minutes at the edge of a client network:
 *
 *  - 40,000 clients in 10.0.0.0/8 and 2,000 servers in 198.18.0.0/15 (the
 *    RFC 2544 benchmarking range), two internal resolvers, a few SSH hosts;
 *  - HTTP/1.1 on port 80 (GET/POST with Host and User-Agent; 200/404 responses
 *    with Content-Length, keep-alive, segmented bodies), TLS on 443 (ClientHello
 *    with SNI, ServerHello, encrypted records), SSH (OpenSSH banners, plaintext
 *    KEXINIT, then encrypted-looking packets, interactive and bulk);
 *  - every TCP connection has a real handshake (SYN, SYN-ACK, ACK), consistent
 *    sequence/ack numbers, timestamp options, delayed ACKs, slow start, and a
 *    FIN/ACK teardown (3- or 4-way) or an RST; some refused (RST) or unanswered
 *    (SYN retransmitted) attempts;
 *  - DNS over UDP 53 in wire format: A/AAAA, CNAME chains, compression
 *    pointers in answers, EDNS0 OPT, NXDOMAIN with an SOA authority record;
 *  - NTP, ICMP echo sessions, three port scans (one source, SYN to 1000 ports
 *    of one host, RST/ACK back, SYN-ACK + RST for open ports), an ICMP host
 *    sweep and a TCP/445 host sweep;
 *  - frames 60..1514 bytes, correct IPv4 total length and header checksum,
 *    correct TCP/UDP/ICMP checksums, strictly increasing timestamps, thousands
 *    of connections interleaved in time.
 *
 * The simulation is event driven: every flow is a small state machine kept in
 * a min-heap on its next packet time, new flows arrive as a Poisson process
 * paced so the requested packet count spans about `--duration` seconds. A
 * seeded PRNG (sfc32) makes the output byte-for-byte reproducible.
 *
 * Packets are built in place in one 8 MiB buffer that is flushed to disk when
 * full, so memory stays flat whatever the packet count.
 *
 * Usage: node dist-bench/gen-capture.js [--packets N] [--out FILE] [--seed N] [--duration SEC]
 * Also writes FILE's metadata (packet count, bytes, mix) next to it as *.meta.json.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GENERATOR_VERSION = 3;
export const DEFAULT_PACKETS = 1_200_000;
export const DEFAULT_SEED = 0x7a9c5eed;
export const DEFAULT_DURATION_SEC = 600;
/** Repository root, seen from dist-bench/ (compiled) or test/bench/ (source). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), dirname(fileURLToPath(import.meta.url)).endsWith('dist-bench') ? '..' : '../..');
export const DEFAULT_OUT = resolve(ROOT, 'bench-data/bench.pcap');

export interface GenOptions {
  packets?: number;
  out?: string;
  seed?: number;
  durationSec?: number;
  /** called now and then with the packets written so far */
  progress?: (packets: number) => void;
}

export interface GenMeta {
  generatorVersion: number;
  file: string;
  packets: number;
  bytes: number;
  seed: number;
  requestedDurationSec: number;
  firstTs: number;
  lastTs: number;
  spanSec: number;
  distinctHosts: number;
  flows: Record<string, number>;
  genSeconds: number;
}

export function metaPathFor(pcapPath: string): string {
  return pcapPath.replace(/\.pcap$/, '') + '.meta.json';
}

// ---------------------------------------------------------------- PRNG

/** sfc32: small, fast, 128-bit state, good enough statistics for traffic. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = (seed ^ 0xdeadbeef) | 0;
    for (let i = 0; i < 20; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  /** log-uniform between lo and hi */
  logu(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.float());
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)] as T;
  }
  fill(b: Buffer, off: number, len: number): void {
    let i = 0;
    for (; i + 4 <= len; i += 4) b.writeUInt32LE(this.u32(), off + i);
    for (; i < len; i++) b[off + i] = this.u32() & 255;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    this.fill(b, 0, n);
    return b;
  }
}

// ---------------------------------------------------------------- constants

const BASE_SEC = 1730815200; // 2024-11-05T14:00:00Z
const MSS = 1448; // 1460 minus the 12-byte timestamp option: full frames are 1514 bytes
const SNAPLEN = 262144;
const CHUNK = 8 << 20;

const F_FIN = 0x01;
const F_SYN = 0x02;
const F_RST = 0x04;
const F_PSH = 0x08;
const F_ACK = 0x10;

const OPT_NONE = 0;
const OPT_SYN = 1; // MSS, SACK_PERM, TS, NOP, WS: 20 bytes
const OPT_TS = 2; // NOP NOP TS: 12 bytes
const OPT_MSS = 3; // MSS only (nmap): 4 bytes

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

const ROUTER_MAC_HI = 0x001b;
const ROUTER_MAC_LO = 0x213a4f01;

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}
export function ipStr(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

const RESOLVERS = [ip4(10, 0, 0, 53), ip4(10, 0, 0, 54)];
const SSH_INTERNAL = [ip4(10, 0, 5, 20), ip4(10, 0, 5, 21), ip4(10, 0, 5, 22)];
const INTERNAL_SCAN_TARGET = ip4(10, 0, 5, 10);
const EXTERNAL_SCANNER = ip4(203, 0, 113, 66);

// ---------------------------------------------------------------- text material

const SYL = ['ka', 'lo', 'mi', 'ne', 'to', 'ra', 'vi', 'su', 'pe', 'do', 'ga', 'zen', 'tri', 'mon', 'bel', 'cor', 'dex', 'fin', 'hal', 'jun', 'kor', 'lux', 'max', 'nor', 'pix', 'qua', 'ros', 'sol', 'tek', 'ul', 'ver', 'wex', 'yo', 'zap'];
const TLDS = ['com', 'com', 'com', 'net', 'org', 'io', 'de', 'co.uk', 'fr', 'info', 'nl', 'app'];
const HOST_PREFIX = ['www', 'www', 'www', 'api', 'cdn', 'static', 'img', 'app', 'news', 'shop', 'm', 'mail', 'assets', 'media'];
const WORDS = ['alpha', 'bravo', 'cloud', 'delta', 'echo', 'forest', 'garden', 'harbor', 'island', 'jungle', 'kernel', 'lemon', 'market', 'nebula', 'orbit', 'pixel', 'quartz', 'river', 'summit', 'timber', 'urban', 'vector', 'window', 'xenon', 'yellow', 'zephyr', 'account', 'profile', 'search', 'product', 'review', 'checkout', 'weather', 'sports', 'travel', 'music'];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'curl/7.88.1',
  'Wget/1.21.3',
  'python-requests/2.31.0',
  'Debian APT-HTTP/1.3 (2.6.1)',
  'Microsoft-CryptoAPI/10.0',
];
const SERVERS_SW = ['nginx/1.24.0', 'Apache/2.4.57 (Debian)', 'nginx', 'Microsoft-IIS/10.0', 'openresty/1.21.4.3', 'cloudflare', 'Caddy', 'gunicorn'];

const SSH_CLIENT_BANNER = 'SSH-2.0-OpenSSH_9.2p1\r\n';
const SSH_SERVER_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';

// ---------------------------------------------------------------- checksums

function sum16(b: Buffer, off: number, len: number, acc: number): number {
  let s = acc;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (len & 1) s += b[off + len - 1]! << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

// ---------------------------------------------------------------- tasks and heap

/** A flow (or one-shot reply) that emits packets at its own time `t` (µs since capture start). */
interface Task {
  t: number;
  /** Emit the packet(s) due at `t`; advance `t` and return true to be rescheduled, false when done. */
  step(g: Gen): boolean;
}

class Heap {
  private a: Task[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Task | undefined {
    return this.a[0];
  }
  push(x: Task): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pa = a[p]!;
      if (pa.t <= x.t) break;
      a[i] = pa;
      i = p;
    }
    a[i] = x;
  }
  pop(): Task | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) this.sinkFrom0(last);
    return top;
  }
  private sinkFrom0(x: Task): void {
    const a = this.a;
    const n = a.length;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]!.t < a[c]!.t) c++;
      if (a[c]!.t >= x.t) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = x;
  }
}

// ---------------------------------------------------------------- messages (application payload streams)

/**
 * One application message on a TCP connection: `hdr` bytes first, then the
 * rest copied from `pool` (wrapping) starting at `poolOff`. With `tlsBase` >= 0
 * the part from tlsBase on is a run of TLS application-data records whose
 * 5-byte headers are laid over the pool bytes.
 */
interface Msg {
  dir: 0 | 1;
  hdr: Buffer | null;
  len: number;
  pool: Buffer;
  poolOff: number;
  /** µs between the previous event and the first byte of this message */
  think: number;
  tlsBase: number;
}

const TLS_REC = 5 + 16401;

function fillMsg(dst: Buffer, at: number, m: Msg, from: number, n: number): void {
  let k = 0;
  const hl = m.hdr === null ? 0 : m.hdr.length;
  if (m.hdr !== null && from < hl) {
    k = Math.min(hl - from, n);
    m.hdr.copy(dst, at, from, from + k);
  }
  if (k < n) {
    const pool = m.pool;
    const plen = pool.length;
    let p = (m.poolOff + from + k - hl) % plen;
    let d = at + k;
    let rest = n - k;
    while (rest > 0) {
      const c = Math.min(rest, plen - p);
      pool.copy(dst, d, p, p + c);
      d += c;
      rest -= c;
      p = 0;
    }
  }
  if (m.tlsBase >= 0) {
    const base = m.tlsBase;
    const end = from + n;
    let r = from <= base ? base : base + Math.floor((from - base) / TLS_REC) * TLS_REC;
    for (; r < end; r += TLS_REC) {
      const recLen = Math.min(TLS_REC - 5, m.len - r - 5);
      for (let q = 0; q < 5; q++) {
        const p = r + q;
        if (p < from || p >= end) continue;
        dst[at + p - from] = q === 0 ? 0x17 : q === 1 ? 0x03 : q === 2 ? 0x03 : q === 3 ? (recLen >>> 8) & 255 : recLen & 255;
      }
    }
  }
}

/** Make a TLS record stream length whose last record is not absurdly short. */
function tlsLen(n: number): number {
  const r = n % TLS_REC;
  return r > 0 && r < 22 ? n + 22 : n;
}

// ---------------------------------------------------------------- TCP conversation

const P_SYN = 0;
const P_SYNACK = 1;
const P_ACK3 = 2;
const P_DATA = 3;
const P_PUREACK = 4;
const P_CLOSE1 = 5;
const P_CLOSE2A = 6;
const P_CLOSE2 = 7;
const P_CLOSE3 = 8;
const P_REFUSED = 9;

const ANS_OK = 0;
const ANS_REFUSED = 1;
const ANS_NONE = 2;

interface ConvInit {
  cIp: number;
  cPort: number;
  sIp: number;
  sPort: number;
  cTtl: number;
  sTtl: number;
  rtt: number;
  /** µs per byte at the bottleneck for data from the server (and client) */
  sByteUs: number;
  cByteUs: number;
  msgs: Msg[];
  answer?: number;
  synRetries?: number;
}

class TcpConv implements Task {
  t: number;
  private readonly ip: [number, number];
  private readonly port: [number, number];
  private readonly ttl: [number, number];
  private readonly id: [number, number];
  private readonly seq: [number, number];
  private readonly tso: [number, number];
  private readonly lastTsv: [number, number] = [0, 0];
  private readonly win: [number, number];
  private readonly byteUs: [number, number];
  private readonly rtt: number;
  private readonly msgs: Msg[];
  private readonly answer: number;
  private synLeft: number;
  private rto = 1_000_000;
  private phase = P_SYN;
  private mi = 0;
  private mo = 0;
  private unacked = 0;
  private burst = 0;
  private cwnd = 10;
  private ackBy: 0 | 1 = 1;
  private readonly closeBy: 0 | 1;
  private readonly closeRst: boolean;
  private readonly close4: boolean;
  private readonly linger: number;

  constructor(g: Gen, t: number, c: ConvInit) {
    const r = g.rng;
    this.t = t;
    this.ip = [c.cIp, c.sIp];
    this.port = [c.cPort, c.sPort];
    this.ttl = [c.cTtl, c.sTtl];
    this.id = [r.int(65536), r.int(65536)];
    this.seq = [r.u32(), r.u32()];
    this.tso = [r.u32(), r.u32()];
    this.win = [r.pick([502, 501, 2052, 512]), r.pick([509, 235, 501, 1024])];
    this.byteUs = [c.cByteUs, c.sByteUs];
    this.rtt = c.rtt;
    this.msgs = c.msgs;
    this.answer = c.answer ?? ANS_OK;
    this.synLeft = c.synRetries ?? 0;
    const u = r.float();
    this.closeRst = u < 0.04;
    this.closeBy = r.chance(0.62) ? 0 : 1;
    this.close4 = r.chance(0.35);
    // idle keep-alive before the close: browsers hold connections for up to a minute, servers time out after 5..75 s
    this.linger = this.closeBy === 0 ? r.logu(2_000, 60_000_000) : r.logu(5_000_000, 75_000_000);
  }

  /** rough packet count, for pacing arrivals */
  static estimate(c: ConvInit): number {
    if (c.answer === ANS_REFUSED) return 2 + (c.synRetries ?? 0);
    if (c.answer === ANS_NONE) return 1 + (c.synRetries ?? 0);
    let n = 6;
    for (const m of c.msgs) n += Math.ceil(m.len / MSS) * 1.5 + 0.7;
    return n;
  }

  /** Start a segment from side d; returns the payload offset in g.buf (caller fills, then g.end()). */
  private seg(g: Gen, d: 0 | 1, flags: number, opt: number, payLen: number): number {
    const o = d ^ 1;
    const tsv = ((Math.floor(this.t / 1000) + this.tso[d]) >>> 0);
    this.lastTsv[d] = tsv;
    const win = flags & F_SYN ? (d === 0 ? 64240 : 65160) : this.win[d];
    const ack = flags & F_ACK ? this.seq[o] : 0;
    const id = this.id[d];
    this.id[d] = (id + 1) & 0xffff;
    return g.tcp(this.t, this.ip[d], this.ip[o], this.port[d], this.port[o], this.seq[d], ack, flags, win, opt, tsv, this.lastTsv[o], this.ttl[d], id, payLen);
  }

  step(g: Gen): boolean {
    const r = g.rng;
    switch (this.phase) {
      case P_SYN: {
        this.seg(g, 0, F_SYN, OPT_SYN, 0);
        g.end();
        if (this.synLeft > 0) {
          this.synLeft--;
          this.t += this.rto;
          this.rto *= 2;
          return true;
        }
        if (this.answer === ANS_NONE) return false;
        this.seq[0] = (this.seq[0] + 1) >>> 0;
        this.phase = this.answer === ANS_REFUSED ? P_REFUSED : P_SYNACK;
        this.t += this.rtt;
        return true;
      }
      case P_REFUSED: {
        g.tcp(this.t, this.ip[1], this.ip[0], this.port[1], this.port[0], 0, this.seq[0], F_RST | F_ACK, 0, OPT_NONE, 0, 0, this.ttl[1], 0, 0);
        g.end();
        return false;
      }
      case P_SYNACK: {
        this.seg(g, 1, F_SYN | F_ACK, OPT_SYN, 0);
        g.end();
        this.seq[1] = (this.seq[1] + 1) >>> 0;
        this.phase = P_ACK3;
        this.t += r.range(20, 250);
        return true;
      }
      case P_ACK3: {
        this.seg(g, 0, F_ACK, OPT_TS, 0);
        g.end();
        const m0 = this.msgs[0];
        if (m0 === undefined) {
          this.phase = P_CLOSE1;
          this.t += this.linger;
        } else {
          this.phase = P_DATA;
          this.t += m0.think;
        }
        return true;
      }
      case P_DATA: {
        const m = this.msgs[this.mi]!;
        const d = m.dir;
        const rem = m.len - this.mo;
        const n = rem < MSS ? rem : MSS;
        const last = n === rem;
        const at = this.seg(g, d, F_ACK | (last ? F_PSH : 0), OPT_TS, n);
        fillMsg(g.buf, at, m, this.mo, n);
        g.end();
        this.seq[d] = (this.seq[d] + n) >>> 0;
        this.mo += n;
        this.unacked++;
        this.burst++;
        this.ackBy = (d ^ 1) as 0 | 1;
        if (last) {
          this.mi++;
          this.mo = 0;
          this.burst = 0;
          const nx = this.msgs[this.mi];
          if (nx !== undefined && nx.dir !== d && nx.think < 200_000) {
            // the reply carries the ACK
            this.unacked = 0;
            this.t += nx.think;
            return true;
          }
          this.phase = P_PUREACK;
          this.t += this.ackDelay(r, this.ackBy);
          return true;
        }
        if (this.unacked >= 2) {
          this.phase = P_PUREACK;
          this.t += this.ackDelay(r, this.ackBy);
          return true;
        }
        this.t += n * this.byteUs[d] + r.int(20);
        return true;
      }
      case P_PUREACK: {
        const a = this.ackBy;
        this.seg(g, a, F_ACK, OPT_TS, 0);
        g.end();
        this.unacked = 0;
        this.phase = P_DATA;
        if (this.mo > 0) {
          // message still flowing from the other side
          if (this.burst >= this.cwnd) {
            this.burst = 0;
            this.cwnd = Math.min(this.cwnd * 2, 300);
            this.t += a === 0 ? this.rtt : r.range(30, 300);
          } else {
            this.t += MSS * this.byteUs[a ^ 1] * 0.5 + r.int(20);
          }
          return true;
        }
        const nx = this.msgs[this.mi];
        if (nx !== undefined) {
          this.t += nx.think;
        } else {
          this.phase = P_CLOSE1;
          this.t += this.linger;
        }
        return true;
      }
      case P_CLOSE1: {
        const c = this.closeBy;
        if (this.closeRst) {
          this.seg(g, c, F_RST | F_ACK, OPT_NONE, 0);
          g.end();
          return false;
        }
        this.seg(g, c, F_FIN | F_ACK, OPT_TS, 0);
        g.end();
        this.seq[c] = (this.seq[c] + 1) >>> 0;
        this.phase = this.close4 ? P_CLOSE2A : P_CLOSE2;
        this.t += c === 0 ? this.rtt : r.range(40, 400);
        return true;
      }
      case P_CLOSE2A: {
        this.seg(g, (this.closeBy ^ 1) as 0 | 1, F_ACK, OPT_TS, 0);
        g.end();
        this.phase = P_CLOSE2;
        this.t += this.closeBy === 0 ? r.range(50, 3000) : r.range(100, 20_000);
        return true;
      }
      case P_CLOSE2: {
        const o = (this.closeBy ^ 1) as 0 | 1;
        this.seg(g, o, F_FIN | F_ACK, OPT_TS, 0);
        g.end();
        this.seq[o] = (this.seq[o] + 1) >>> 0;
        this.phase = P_CLOSE3;
        this.t += this.closeBy === 0 ? r.range(30, 200) : this.rtt;
        return true;
      }
      case P_CLOSE3: {
        this.seg(g, this.closeBy, F_ACK, OPT_TS, 0);
        g.end();
        return false;
      }
      default:
        return false;
    }
  }

  /** When side a's ACK is seen at the capture point (near the clients). */
  private ackDelay(r: Rng, a: 0 | 1): number {
    return a === 0 ? r.range(15, 250) : this.rtt;
  }
}

// ---------------------------------------------------------------- scans and sweeps

/** One answer to a probe: RST/ACK for a closed port, SYN/ACK then the prober's RST for an open one. */
class ProbeReply implements Task {
  private phase = 0;
  private readonly synackSeq: number;
  constructor(
    g: Gen,
    public t: number,
    private readonly src: number,
    private readonly dst: number,
    private readonly sport: number,
    private readonly dport: number,
    private readonly probeSeq: number,
    private readonly open: boolean,
    private readonly srcTtl: number,
    private readonly dstTtl: number,
    private readonly back: number,
  ) {
    this.synackSeq = g.rng.u32();
  }
  step(g: Gen): boolean {
    const ack = (this.probeSeq + 1) >>> 0;
    if (!this.open) {
      g.tcp(this.t, this.dst, this.src, this.dport, this.sport, 0, ack, F_RST | F_ACK, 0, OPT_NONE, 0, 0, this.dstTtl, 0, 0);
      g.end();
      return false;
    }
    if (this.phase === 0) {
      g.tcp(this.t, this.dst, this.src, this.dport, this.sport, this.synackSeq, ack, F_SYN | F_ACK, 64240, OPT_MSS, 0, 0, this.dstTtl, 0, 0);
      g.end();
      this.phase = 1;
      this.t += this.back;
      return true;
    }
    g.tcp(this.t, this.src, this.dst, this.sport, this.dport, ack, 0, F_RST, 0, OPT_NONE, 0, 0, this.srcTtl, 0, 0);
    g.end();
    return false;
  }
}

/** SYN probes from one source: to many ports of one host (port scan) or one port of many hosts (sweep). */
class SynProber implements Task {
  private i = 0;
  private readonly sport: number;
  constructor(
    g: Gen,
    public t: number,
    private readonly src: number,
    private readonly targets: readonly number[],
    private readonly ports: readonly number[],
    /** per probe: 0 closed (RST), 1 open (SYN/ACK), 2 silent */
    private readonly fate: (i: number) => number,
    private readonly rtt: number,
    private readonly back: number,
    private readonly gap: number,
    private readonly srcTtl: number,
    private readonly dstTtl: number,
  ) {
    this.sport = g.rng.range(33000, 65000);
  }
  get count(): number {
    return Math.max(this.targets.length, this.ports.length);
  }
  step(g: Gen): boolean {
    const r = g.rng;
    const i = this.i;
    const dst = this.targets.length === 1 ? this.targets[0]! : this.targets[i]!;
    const dport = this.ports.length === 1 ? this.ports[0]! : this.ports[i]!;
    const seq = r.u32();
    g.tcp(this.t, this.src, dst, this.sport, dport, seq, 0, F_SYN, 1024, OPT_MSS, 0, 0, this.srcTtl, r.int(65536), 0);
    g.end();
    const f = this.fate(i);
    if (f !== 2) g.schedule(new ProbeReply(g, this.t + this.rtt + r.int(200), this.src, dst, this.sport, dport, seq, f === 1, this.srcTtl, this.dstTtl, this.back));
    this.i++;
    if (this.i >= this.count) return false;
    this.t += this.gap * (0.5 + r.float());
    return true;
  }
}

class EchoReply implements Task {
  constructor(
    public t: number,
    private readonly src: number,
    private readonly dst: number,
    private readonly idv: number,
    private readonly seqv: number,
    private readonly ttl: number,
    private readonly payload: Buffer,
  ) {}
  step(g: Gen): boolean {
    const at = g.icmp(this.t, this.src, this.dst, 0, 0, this.idv, this.seqv, this.ttl, g.rng.int(65536), this.payload.length);
    this.payload.copy(g.buf, at);
    g.end();
    return false;
  }
}

function echoPayload(t: number): Buffer {
  const p = Buffer.allocUnsafe(56);
  const abs = BASE_SEC * 1e6 + Math.floor(t);
  p.writeUInt32LE(Math.floor(abs / 1e6) >>> 0, 0);
  p.writeUInt32LE(0, 4);
  p.writeUInt32LE(abs % 1e6, 8);
  p.writeUInt32LE(0, 12);
  for (let i = 16; i < 56; i++) p[i] = i;
  return p;
}

class IcmpSweep implements Task {
  private i = 0;
  private readonly idv: number;
  constructor(
    g: Gen,
    public t: number,
    private readonly src: number,
    private readonly targets: readonly number[],
    private readonly alive: (i: number) => boolean,
  ) {
    this.idv = g.rng.int(65536);
  }
  step(g: Gen): boolean {
    const r = g.rng;
    const dst = this.targets[this.i]!;
    const pl = echoPayload(this.t);
    const at = g.icmp(this.t, this.src, dst, 8, 0, this.idv, this.i + 1, 64, r.int(65536), pl.length);
    pl.copy(g.buf, at);
    g.end();
    if (this.alive(this.i)) g.schedule(new EchoReply(this.t + r.range(150, 3000), dst, this.src, this.idv, this.i + 1, r.pick([64, 128]), pl));
    this.i++;
    if (this.i >= this.targets.length) return false;
    this.t += r.range(800, 3000);
    return true;
  }
}

/** ping: a few echo requests one second apart, each answered after the RTT (or not at all). */
class Ping implements Task {
  private i = 0;
  private replyDue = false;
  private readonly idv: number;
  private pl: Buffer = Buffer.alloc(0);
  constructor(
    g: Gen,
    public t: number,
    private readonly src: number,
    private readonly dst: number,
    private readonly count: number,
    private readonly rtt: number,
    private readonly answers: boolean,
    private readonly dstTtl: number,
  ) {
    this.idv = g.rng.int(65536);
  }
  step(g: Gen): boolean {
    const r = g.rng;
    if (this.replyDue) {
      const at = g.icmp(this.t, this.dst, this.src, 0, 0, this.idv, this.i, this.dstTtl, r.int(65536), this.pl.length);
      this.pl.copy(g.buf, at);
      g.end();
      this.replyDue = false;
      if (this.i >= this.count) return false;
      this.t += 1_000_000 - this.rtt + r.int(400);
      return true;
    }
    this.i++;
    this.pl = echoPayload(this.t);
    const at = g.icmp(this.t, this.src, this.dst, 8, 0, this.idv, this.i, 64, r.int(65536), this.pl.length);
    this.pl.copy(g.buf, at);
    g.end();
    if (this.answers) {
      this.replyDue = true;
      this.t += this.rtt;
      return true;
    }
    if (this.i >= this.count) return false;
    this.t += 1_000_000 + r.int(400);
    return true;
  }
}

// ---------------------------------------------------------------- UDP: DNS and NTP

/** One UDP request and (optionally) its response, both prebuilt. */
class UdpExchange implements Task {
  private phase = 0;
  constructor(
    public t: number,
    private readonly cIp: number,
    private readonly cPort: number,
    private readonly sIp: number,
    private readonly sPort: number,
    private readonly cTtl: number,
    private readonly sTtl: number,
    private readonly req: Buffer,
    private readonly resp: Buffer | null,
    private readonly latency: number,
  ) {}
  step(g: Gen): boolean {
    const r = g.rng;
    if (this.phase === 0) {
      const at = g.udp(this.t, this.cIp, this.sIp, this.cPort, this.sPort, this.cTtl, r.int(65536), this.req.length);
      this.req.copy(g.buf, at);
      g.end();
      if (this.resp === null) return false;
      this.phase = 1;
      this.t += this.latency;
      return true;
    }
    const resp = this.resp!;
    const at = g.udp(this.t, this.sIp, this.cIp, this.sPort, this.cPort, this.sTtl, r.int(65536), resp.length);
    resp.copy(g.buf, at);
    g.end();
    return false;
  }
}

const QTYPE_A = 1;
const QTYPE_CNAME = 5;
const QTYPE_SOA = 6;
const QTYPE_AAAA = 28;

class DnsWriter {
  readonly b = Buffer.alloc(1500);
  n = 0;
  u8(v: number): void {
    this.b[this.n++] = v & 255;
  }
  u16(v: number): void {
    this.b.writeUInt16BE(v & 0xffff, this.n);
    this.n += 2;
  }
  u32(v: number): void {
    this.b.writeUInt32BE(v >>> 0, this.n);
    this.n += 4;
  }
  /** Write labels; end with a pointer when ptr >= 0, else with the root label. Returns offsets of each label. */
  name(labels: readonly string[], ptr = -1): number[] {
    const offs: number[] = [];
    for (const l of labels) {
      offs.push(this.n);
      this.u8(l.length);
      this.n += this.b.write(l, this.n, 'latin1');
    }
    if (ptr >= 0) this.u16(0xc000 | ptr);
    else this.u8(0);
    return offs;
  }
  ptr(off: number): void {
    this.u16(0xc000 | off);
  }
  take(): Buffer {
    return Buffer.from(this.b.subarray(0, this.n));
  }
}

interface DnsAnswerPlan {
  qtype: number;
  nx: boolean;
  cname: string | null;
  addrs: number[]; // A: ip; AAAA: seeds for 2001:db8::/32 addresses
}

function buildDns(r: Rng, w: DnsWriter, id: number, qname: string, plan: DnsAnswerPlan, edns: boolean): { q: Buffer; a: Buffer } {
  const labels = qname.split('.');
  // query
  w.n = 0;
  w.u16(id);
  w.u16(0x0100);
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(edns ? 1 : 0);
  w.name(labels);
  w.u16(plan.qtype);
  w.u16(1);
  if (edns) optRecord(w);
  const q = w.take();

  // response
  w.n = 0;
  w.u16(id);
  w.u16(plan.nx ? 0x8183 : 0x8180);
  w.u16(1);
  const ancount = plan.nx ? 0 : (plan.cname !== null ? 1 : 0) + plan.addrs.length;
  w.u16(ancount);
  w.u16(plan.nx ? 1 : 0);
  w.u16(edns ? 1 : 0);
  const qoffs = w.name(labels);
  w.u16(plan.qtype);
  w.u16(1);
  // the registered domain (last two labels, three for co.uk) is what answers point into
  const keep = labels.length >= 3 && labels[labels.length - 2] === 'co' ? 3 : 2;
  const zoneOff = qoffs[Math.max(0, labels.length - keep)]!;
  if (plan.nx) {
    w.ptr(zoneOff);
    w.u16(QTYPE_SOA);
    w.u16(1);
    w.u32(r.range(300, 3600));
    const rdlenAt = w.n;
    w.u16(0);
    w.name(['ns1'], zoneOff);
    w.name(['hostmaster'], zoneOff);
    w.u32(2024110501 + r.int(50));
    w.u32(7200);
    w.u32(3600);
    w.u32(1209600);
    w.u32(3600);
    w.b.writeUInt16BE(w.n - rdlenAt - 2, rdlenAt);
  } else {
    let owner = 12; // the question name
    if (plan.cname !== null) {
      w.ptr(12);
      w.u16(QTYPE_CNAME);
      w.u16(1);
      w.u32(r.range(60, 3600));
      const rdlenAt = w.n;
      w.u16(0);
      owner = w.n;
      w.name([plan.cname], zoneOff);
      w.b.writeUInt16BE(w.n - rdlenAt - 2, rdlenAt);
    }
    const ttl = r.range(30, 3600);
    for (const a of plan.addrs) {
      w.ptr(owner);
      w.u16(plan.qtype);
      w.u16(1);
      w.u32(ttl);
      if (plan.qtype === QTYPE_A) {
        w.u16(4);
        w.u32(a);
      } else {
        w.u16(16);
        w.u32(0x20010db8);
        w.u32((a >>> 16) << 16);
        w.u32(0);
        w.u32(a);
      }
    }
  }
  if (edns) optRecord(w);
  return { q, a: w.take() };
}

function optRecord(w: DnsWriter): void {
  w.u8(0);
  w.u16(41);
  w.u16(1232);
  w.u32(0);
  w.u16(0);
}

// ---------------------------------------------------------------- TLS and SSH material

function tlsClientHello(r: Rng, sni: string): Buffer {
  const ext: Buffer[] = [];
  const e = (type: number, body: Buffer): void => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(body.length, 2);
    ext.push(h, body);
  };
  const name = Buffer.from(sni, 'latin1');
  const sn = Buffer.alloc(5 + name.length);
  sn.writeUInt16BE(name.length + 3, 0);
  sn[2] = 0;
  sn.writeUInt16BE(name.length, 3);
  name.copy(sn, 5);
  e(0x0000, sn);
  e(0x0017, Buffer.alloc(0));
  e(0xff01, Buffer.from([0]));
  e(0x000a, Buffer.from([0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]));
  e(0x000b, Buffer.from([1, 0]));
  e(0x0023, Buffer.alloc(0));
  e(0x0010, Buffer.from([0, 12, 2, 0x68, 0x32, 8, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31]));
  e(0x0005, Buffer.from([1, 0, 0, 0, 0]));
  e(0x000d, Buffer.from([0, 16, 4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 8, 6, 6, 1]));
  e(0x0033, Buffer.concat([Buffer.from([0, 0x24, 0, 0x1d, 0, 0x20]), r.bytes(32)]));
  e(0x002d, Buffer.from([1, 1]));
  e(0x002b, Buffer.from([4, 3, 4, 3, 3]));
  let exts = Buffer.concat(ext);
  const suites = Buffer.from([0x13, 1, 0x13, 2, 0x13, 3, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0, 0x9c, 0, 0x9d, 0, 0x2f, 0, 0x35]);
  const fixed = 2 + 32 + 1 + 32 + 2 + suites.length + 2 + 2;
  // pad the handshake body to 508 bytes (record of 517), as browsers do
  const padTo = 508;
  const padLen = padTo - fixed - exts.length - 4;
  if (padLen >= 0) {
    const ph = Buffer.alloc(4 + padLen);
    ph.writeUInt16BE(0x0015, 0);
    ph.writeUInt16BE(padLen, 2);
    exts = Buffer.concat([exts, ph]);
  }
  const body = Buffer.alloc(fixed + exts.length);
  let o = 0;
  body.writeUInt16BE(0x0303, o);
  o += 2;
  r.fill(body, o, 32);
  o += 32;
  body[o++] = 32;
  r.fill(body, o, 32);
  o += 32;
  body.writeUInt16BE(suites.length, o);
  o += 2;
  suites.copy(body, o);
  o += suites.length;
  body[o++] = 1;
  body[o++] = 0;
  body.writeUInt16BE(exts.length, o);
  o += 2;
  exts.copy(body, o);
  const rec = Buffer.alloc(9 + body.length);
  rec[0] = 0x16;
  rec.writeUInt16BE(0x0301, 1);
  rec.writeUInt16BE(body.length + 4, 3);
  rec[5] = 1;
  rec.writeUIntBE(body.length, 6, 3);
  body.copy(rec, 9);
  return rec;
}

/** ServerHello (TLS 1.3 shape) + ChangeCipherSpec: 133 bytes; encrypted records follow. */
function tlsServerHello(r: Rng): Buffer {
  const b = Buffer.alloc(127 + 6);
  let o = 0;
  b[o++] = 0x16;
  b.writeUInt16BE(0x0303, o);
  o += 2;
  b.writeUInt16BE(122, o);
  o += 2;
  b[o++] = 2;
  b.writeUIntBE(118, o, 3);
  o += 3;
  b.writeUInt16BE(0x0303, o);
  o += 2;
  r.fill(b, o, 32);
  o += 32;
  b[o++] = 32;
  r.fill(b, o, 32);
  o += 32;
  b.writeUInt16BE(0x1301, o);
  o += 2;
  b[o++] = 0;
  b.writeUInt16BE(46, o);
  o += 2;
  Buffer.from([0, 0x33, 0, 0x24, 0, 0x1d, 0, 0x20]).copy(b, o);
  o += 8;
  r.fill(b, o, 32);
  o += 32;
  Buffer.from([0, 0x2b, 0, 2, 3, 4]).copy(b, o);
  o += 6;
  Buffer.from([0x14, 3, 3, 0, 1, 1]).copy(b, o);
  return b;
}

const TLS_CCS = Buffer.from([0x14, 3, 3, 0, 1, 1]);

function sshPacket(r: Rng, payload: Buffer): Buffer {
  let pad = 8 - ((4 + 1 + payload.length) % 8);
  if (pad < 4) pad += 8;
  const len = 1 + payload.length + pad;
  const b = Buffer.alloc(4 + len);
  b.writeUInt32BE(len, 0);
  b[4] = pad;
  payload.copy(b, 5);
  r.fill(b, 5 + payload.length, pad);
  return b;
}

function sshString(s: string | Buffer): Buffer {
  const v = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  const b = Buffer.alloc(4 + v.length);
  b.writeUInt32BE(v.length, 0);
  v.copy(b, 4);
  return b;
}

function sshKexinit(r: Rng, client: boolean): Buffer {
  const kex = (client ? 'sntrup761x25519-sha512@openssh.com,' : '') + 'curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256' + (client ? ',ext-info-c' : ',kex-strict-s-v00@openssh.com');
  const hostkey = client
    ? 'ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256'
    : 'rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519';
  const enc = 'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com';
  const mac = 'umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1';
  const comp = client ? 'none,zlib@openssh.com,zlib' : 'none,zlib@openssh.com';
  const payload = Buffer.concat([Buffer.from([20]), r.bytes(16), ...[kex, hostkey, enc, enc, mac, mac, comp, comp, '', ''].map(sshString), Buffer.from([0, 0, 0, 0, 0])]);
  return sshPacket(r, payload);
}

// ---------------------------------------------------------------- the generator

const FLOW_KINDS = ['http', 'tls', 'dns', 'ping', 'ntp', 'tcp_failed', 'ssh', 'portscan', 'sweep'] as const;
type FlowKind = (typeof FLOW_KINDS)[number];

class Gen {
  readonly rng: Rng;
  readonly buf: Buffer;
  private pos = 0;
  private readonly fd: number;
  packets = 0;
  fileBytes = 0;
  lastTs = -1;
  firstTs = -1;
  // frame in progress
  private rec = 0;
  private l3 = 0;
  private l4 = 0;
  private l4Len = 0;
  private proto = 0;
  private ts = 0;

  private readonly heap = new Heap();
  private readonly dns = new DnsWriter();

  // hosts
  private readonly nClients = 40_000;
  private readonly nServers = 2_000;
  private readonly cIp: Uint32Array;
  private readonly cTtl: Uint8Array;
  private readonly cPort: Uint16Array;
  private readonly sIp: Uint32Array;
  private readonly sTtl: Uint8Array;
  private readonly sRtt: Float64Array;
  private readonly sMbps: Float64Array;
  private readonly sName: string[] = [];
  private readonly sSoft: string[] = [];
  readonly hosts = new Set<number>();
  readonly flows: Record<FlowKind, number> = { http: 0, tls: 0, dns: 0, ping: 0, ntp: 0, tcp_failed: 0, ssh: 0, portscan: 0, sweep: 0 };

  // payload pools
  private readonly htmlPool: Buffer;
  private readonly randPool: Buffer;
  private readonly notFound: Buffer;

  constructor(
    fd: number,
    seed: number,
    private readonly target: number,
    private readonly spanUs: number,
  ) {
    this.fd = fd;
    const r = (this.rng = new Rng(seed));
    this.buf = Buffer.allocUnsafe(CHUNK + 65536);
    // global header
    const b = this.buf;
    b.writeUInt32LE(0xa1b2c3d4, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8);
    b.writeUInt32LE(0, 12);
    b.writeUInt32LE(SNAPLEN, 16);
    b.writeUInt32LE(1, 20);
    this.pos = 24;

    // clients: distinct addresses in 10.0.0.0/8, avoiding 10.0.x.x (servers, resolvers) and the swept ranges
    this.cIp = new Uint32Array(this.nClients);
    this.cTtl = new Uint8Array(this.nClients);
    this.cPort = new Uint16Array(this.nClients);
    const seen = new Set<number>();
    for (let i = 0; i < this.nClients; ) {
      const ip = (0x0a000000 | r.int(1 << 24)) >>> 0;
      const b2 = (ip >>> 16) & 255;
      const last = ip & 255;
      if (b2 === 0 || b2 === 77 || b2 === 78 || last === 0 || last === 255 || seen.has(ip)) continue;
      seen.add(ip);
      this.cIp[i] = ip;
      this.cTtl[i] = r.chance(0.3) ? 128 : 64;
      this.cPort[i] = r.range(32768, 60999);
      i++;
    }
    // servers in 198.18.0.0/15
    this.sIp = new Uint32Array(this.nServers);
    this.sTtl = new Uint8Array(this.nServers);
    this.sRtt = new Float64Array(this.nServers);
    this.sMbps = new Float64Array(this.nServers);
    const sseen = new Set<number>();
    for (let i = 0; i < this.nServers; ) {
      const ip = (ip4(198, 18, 0, 0) + r.int(1 << 17)) >>> 0;
      if ((ip & 255) === 0 || (ip & 255) === 255 || sseen.has(ip)) continue;
      sseen.add(ip);
      this.sIp[i] = ip;
      this.sTtl[i] = (r.chance(0.8) ? 64 : r.chance(0.5) ? 128 : 255) - r.range(6, 22);
      this.sRtt[i] = r.logu(2_000, 180_000);
      this.sMbps[i] = r.logu(20, 900);
      const nsyl = r.range(2, 3);
      let name = '';
      for (let k = 0; k < nsyl; k++) name += r.pick(SYL);
      if (r.chance(0.2)) name += r.pick(['-cloud', '-media', '-labs', 'hub', 'ly', '-shop']);
      this.sName.push(`${r.pick(HOST_PREFIX)}.${name}.${r.pick(TLDS)}`);
      this.sSoft.push(r.pick(SERVERS_SW));
      i++;
    }

    // pools: HTML-ish text and random (compressed/encrypted-looking) bytes
    const parts: string[] = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Welcome</title><link rel="stylesheet" href="/static/css/site.css"></head><body>\n'];
    let len = parts[0]!.length;
    while (len < (1 << 20)) {
      const w1 = r.pick(WORDS);
      const w2 = r.pick(WORDS);
      const s = `<div class="card ${w1}"><a href="/${w1}/${r.int(100000)}">${w2} ${w1} ${r.pick(WORDS)}</a><p>${r.pick(WORDS)} ${w2} ${r.pick(WORDS)} ${r.pick(WORDS)} ${w1}.</p></div>\n`;
      parts.push(s);
      len += s.length;
    }
    this.htmlPool = Buffer.from(parts.join(''), 'latin1');
    this.randPool = r.bytes(4 << 20);
    this.notFound = Buffer.from('<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n', 'latin1');
  }

  // ------------------------------------------------------------ frame building

  private flush(): void {
    let o = 0;
    while (o < this.pos) o += writeSync(this.fd, this.buf, o, this.pos - o);
    this.fileBytes += this.pos;
    this.pos = 0;
  }

  finish(): void {
    this.flush();
  }

  /** Start an Ethernet/IPv4 frame; returns the offset of the L4 header. */
  private begin(t: number, src: number, dst: number, proto: number, ttl: number, ipId: number, df: boolean): number {
    if (this.pos > CHUNK) this.flush();
    let ts = Math.floor(t);
    if (ts <= this.lastTs) ts = this.lastTs + 1;
    this.lastTs = ts;
    if (this.firstTs < 0) this.firstTs = ts;
    this.ts = ts;
    const b = this.buf;
    const rec = this.pos;
    this.rec = rec;
    const e = rec + 16;
    writeMac(b, e, dst);
    writeMac(b, e + 6, src);
    b[e + 12] = 0x08;
    b[e + 13] = 0x00;
    const ip = e + 14;
    this.l3 = ip;
    b[ip] = 0x45;
    b[ip + 1] = 0;
    b[ip + 4] = (ipId >>> 8) & 255;
    b[ip + 5] = ipId & 255;
    b[ip + 6] = df ? 0x40 : 0;
    b[ip + 7] = 0;
    b[ip + 8] = ttl;
    b[ip + 9] = proto;
    b[ip + 10] = 0;
    b[ip + 11] = 0;
    b.writeUInt32BE(src, ip + 12);
    b.writeUInt32BE(dst, ip + 16);
    this.proto = proto;
    this.l4 = ip + 20;
    return ip + 20;
  }

  /** TCP segment header; returns the payload offset. Fill `payLen` bytes there, then call end(). */
  tcp(t: number, src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, win: number, opt: number, tsval: number, tsecr: number, ttl: number, ipId: number, payLen: number): number {
    const o = this.begin(t, src, dst, PROTO_TCP, ttl, ipId, true);
    const b = this.buf;
    const hl = opt === OPT_NONE ? 20 : opt === OPT_SYN ? 40 : opt === OPT_TS ? 32 : 24;
    b.writeUInt16BE(sport, o);
    b.writeUInt16BE(dport, o + 2);
    b.writeUInt32BE(seq >>> 0, o + 4);
    b.writeUInt32BE(ack >>> 0, o + 8);
    b[o + 12] = (hl >> 2) << 4;
    b[o + 13] = flags;
    b.writeUInt16BE(win, o + 14);
    b[o + 16] = 0;
    b[o + 17] = 0;
    b[o + 18] = 0;
    b[o + 19] = 0;
    const x = o + 20;
    if (opt === OPT_SYN) {
      b[x] = 2; b[x + 1] = 4; b.writeUInt16BE(1460, x + 2);
      b[x + 4] = 4; b[x + 5] = 2;
      b[x + 6] = 8; b[x + 7] = 10; b.writeUInt32BE(tsval >>> 0, x + 8); b.writeUInt32BE(tsecr >>> 0, x + 12);
      b[x + 16] = 1;
      b[x + 17] = 3; b[x + 18] = 3; b[x + 19] = 7;
    } else if (opt === OPT_TS) {
      b[x] = 1; b[x + 1] = 1; b[x + 2] = 8; b[x + 3] = 10;
      b.writeUInt32BE(tsval >>> 0, x + 4); b.writeUInt32BE(tsecr >>> 0, x + 8);
    } else if (opt === OPT_MSS) {
      b[x] = 2; b[x + 1] = 4; b.writeUInt16BE(1460, x + 2);
    }
    this.l4Len = hl + payLen;
    return o + hl;
  }

  udp(t: number, src: number, dst: number, sport: number, dport: number, ttl: number, ipId: number, payLen: number): number {
    const o = this.begin(t, src, dst, PROTO_UDP, ttl, ipId, false);
    const b = this.buf;
    b.writeUInt16BE(sport, o);
    b.writeUInt16BE(dport, o + 2);
    b.writeUInt16BE(8 + payLen, o + 4);
    b[o + 6] = 0;
    b[o + 7] = 0;
    this.l4Len = 8 + payLen;
    return o + 8;
  }

  icmp(t: number, src: number, dst: number, type: number, code: number, id: number, seq: number, ttl: number, ipId: number, payLen: number): number {
    const o = this.begin(t, src, dst, PROTO_ICMP, ttl, ipId, false);
    const b = this.buf;
    b[o] = type;
    b[o + 1] = code;
    b[o + 2] = 0;
    b[o + 3] = 0;
    b.writeUInt16BE(id, o + 4);
    b.writeUInt16BE(seq, o + 6);
    this.l4Len = 8 + payLen;
    return o + 8;
  }

  /** Fix lengths and checksums, pad to 60 bytes, write the record header. */
  end(): void {
    const b = this.buf;
    const ip = this.l3;
    const l4 = this.l4;
    const l4Len = this.l4Len;
    const tot = 20 + l4Len;
    b[ip + 2] = tot >>> 8;
    b[ip + 3] = tot & 255;
    b.writeUInt16BE(fold(sum16(b, ip, 20, 0)), ip + 10);
    if (this.proto === PROTO_ICMP) {
      b.writeUInt16BE(fold(sum16(b, l4, l4Len, 0)), l4 + 2);
    } else {
      const pseudo = sum16(b, ip + 12, 8, 0) + this.proto + l4Len;
      let c = fold(sum16(b, l4, l4Len, pseudo));
      if (this.proto === PROTO_UDP) {
        if (c === 0) c = 0xffff;
        b.writeUInt16BE(c, l4 + 6);
      } else {
        b.writeUInt16BE(c, l4 + 16);
      }
    }
    const e = this.rec + 16;
    let flen = 14 + tot;
    if (flen < 60) {
      b.fill(0, e + flen, e + 60);
      flen = 60;
    }
    const rec = this.rec;
    const ts = this.ts;
    b.writeUInt32LE(BASE_SEC + Math.floor(ts / 1e6), rec);
    b.writeUInt32LE(ts % 1e6, rec + 4);
    b.writeUInt32LE(flen, rec + 8);
    b.writeUInt32LE(flen, rec + 12);
    this.pos = e + flen;
    this.packets++;
  }

  schedule(task: Task): void {
    this.heap.push(task);
  }

  // ------------------------------------------------------------ main loop

  run(progress?: (packets: number) => void): void {
    const heap = this.heap;
    const target = this.target;
    let nextArrival = 0;
    // scans and sweeps at fixed points of the capture
    const specials: Array<[number, () => void]> = [
      [0.12, () => this.portScan(this.randomClientIp(), this.sIp[this.popularServer()]!, 'out')],
      [0.3, () => this.icmpSweep()],
      [0.5, () => this.portScan(EXTERNAL_SCANNER, INTERNAL_SCAN_TARGET, 'in')],
      [0.66, () => this.tcpSweep()],
      [0.81, () => this.portScan(this.randomClientIp(), INTERNAL_SCAN_TARGET, 'lan')],
    ];
    let si = 0;
    let lastReport = 0;
    while (this.packets < target) {
      const top = heap.peek();
      if (top === undefined || nextArrival <= top.t) {
        while (si < specials.length && specials[si]![0] * this.spanUs <= nextArrival) {
          this.nowUs = nextArrival;
          specials[si]![1]();
          si++;
        }
        this.nowUs = nextArrival;
        const est = this.spawn(nextArrival);
        nextArrival += this.rng.exp((this.spanUs * est) / target);
        continue;
      }
      // pop before stepping: a step may schedule new tasks (probe replies)
      heap.pop();
      if (top.step(this)) heap.push(top);
      if (progress !== undefined && this.packets - lastReport >= 100_000) {
        lastReport = this.packets;
        progress(this.packets);
      }
    }
  }

  private nowUs = 0;

  // ------------------------------------------------------------ host choice

  private clientIdx(): number {
    return Math.floor(this.nClients * Math.pow(this.rng.float(), 1.3));
  }
  private randomClientIp(): number {
    return this.cIp[this.rng.int(this.nClients)]!;
  }
  private popularServer(): number {
    return Math.floor(this.nServers * Math.pow(this.rng.float(), 2.2));
  }
  private ephemeral(ci: number): number {
    let p = this.cPort[ci]! + 1;
    if (p > 60999) p = 32768;
    this.cPort[ci] = p;
    return p;
  }

  // ------------------------------------------------------------ flow mix

  /** Start the flow(s) of one arrival at time t; returns the expected packet count. */
  private spawn(t: number): number {
    const u = this.rng.float();
    if (u < 0.48) return this.dnsLookup(t, this.clientIdx(), null, -1);
    if (u < 0.68) return this.webConn(t, false);
    if (u < 0.9) return this.webConn(t, true);
    if (u < 0.93) return this.ping(t);
    if (u < 0.955) return this.ntp(t);
    if (u < 0.9995) return this.failedTcp(t);
    return this.ssh(t);
  }

  private note(kind: FlowKind, ...ips: number[]): void {
    this.flows[kind]++;
    for (const ip of ips) this.hosts.add(ip);
  }

  private dnsLookup(t: number, ci: number, name: string | null, answerIp: number): number {
    const r = this.rng;
    const cip = this.cIp[ci]!;
    const resolver = r.chance(0.85) ? RESOLVERS[0]! : RESOLVERS[1]!;
    let qname: string;
    let nx = false;
    let ip = answerIp;
    if (name !== null) {
      qname = name;
    } else {
      const v = r.float();
      if (v < 0.08) {
        nx = true;
        const w = r.float();
        if (w < 0.35) {
          let s = '';
          const n = r.range(10, 18);
          for (let k = 0; k < n; k++) s += String.fromCharCode(97 + r.int(26));
          qname = `${s}.${r.pick(['com', 'net', 'info', 'biz', 'xyz'])}`;
        } else if (w < 0.6) {
          qname = r.pick(['wpad.localdomain', 'wpad.corp.example', 'isatap.localdomain', '_ldap._tcp.dc._msdcs.corp.example', 'printer.lan']);
        } else {
          const s = this.sName[r.int(this.nServers)]!;
          qname = `${r.pick(WORDS)}${r.int(100)}.${s.slice(s.indexOf('.') + 1)}`;
        }
      } else {
        const si = this.popularServer();
        qname = this.sName[si]!;
        ip = this.sIp[si]!;
      }
    }
    const aaaa = !nx && r.chance(0.25);
    const cached = r.chance(0.7);
    const latency = cached ? r.range(150, 900) : r.logu(4_000, 150_000);
    const edns = r.chance(0.6);
    const addrs: number[] = [];
    if (!nx) {
      const extra = r.chance(0.3) ? r.range(1, 3) : 0;
      if (aaaa) {
        for (let k = 0; k <= Math.min(extra, 1); k++) addrs.push(r.u32());
      } else {
        addrs.push(ip >= 0 ? ip : (ip4(198, 18, 0, 0) + r.int(1 << 17)) >>> 0);
        for (let k = 0; k < extra; k++) addrs.push((ip4(198, 18, 0, 0) + r.int(1 << 17)) >>> 0);
      }
    }
    const plan: DnsAnswerPlan = { qtype: aaaa ? QTYPE_AAAA : QTYPE_A, nx, cname: !nx && r.chance(0.2) ? `edge${r.int(64)}-${r.pick(['cdn', 'lb', 'ha'])}` : null, addrs };
    const { q, a } = buildDns(r, this.dns, r.int(65536), qname, plan, edns);
    const cttl = this.cTtl[ci]!;
    this.schedule(new UdpExchange(t, cip, this.ephemeral(ci), resolver, 53, cttl, 64, q, a, latency));
    this.note('dns', cip, resolver);
    let est = 2;
    // glibc-style parallel A + AAAA for standalone lookups
    if (name === null && !nx && !aaaa && r.chance(0.3)) {
      const p2: DnsAnswerPlan = { qtype: QTYPE_AAAA, nx: false, cname: plan.cname, addrs: [r.u32()] };
      const x = buildDns(r, this.dns, r.int(65536), qname, p2, edns);
      this.schedule(new UdpExchange(t + r.range(20, 90), cip, this.ephemeral(ci), resolver, 53, cttl, 64, x.q, x.a, latency + r.range(10, 300)));
      est += 2;
    }
    this.lastDnsLatency = latency;
    return est;
  }
  private lastDnsLatency = 0;

  private webConn(t: number, tls: boolean): number {
    const r = this.rng;
    const ci = this.clientIdx();
    const si = this.popularServer();
    const host = this.sName[si]!;
    let est = 0;
    let start = t;
    if (r.chance(0.45)) {
      est += this.dnsLookup(t, ci, host, this.sIp[si]!);
      start = t + this.lastDnsLatency + r.range(100, 2000);
    }
    const rtt = this.sRtt[si]! * (0.9 + 0.2 * r.float());
    const msgs: Msg[] = [];
    const nreq = r.chance(0.35) ? r.range(2, 6) : 1;
    if (tls) {
      msgs.push({ dir: 0, hdr: tlsClientHello(r, host), len: 0, pool: this.randPool, poolOff: 0, think: r.range(50, 400), tlsBase: -1 });
      const sh = tlsServerHello(r);
      const enc = r.range(2200, 5200);
      msgs.push({ dir: 1, hdr: sh, len: sh.length + enc, pool: this.randPool, poolOff: r.int(this.randPool.length), think: rtt + r.range(200, 3000), tlsBase: sh.length });
      msgs.push({ dir: 0, hdr: TLS_CCS, len: TLS_CCS.length + 58, pool: this.randPool, poolOff: r.int(this.randPool.length), think: r.range(200, 2000), tlsBase: TLS_CCS.length });
      for (const m of msgs) if (m.len === 0) m.len = m.hdr!.length;
    }
    for (let k = 0; k < nreq; k++) {
      const think = k === 0 ? r.range(30, 600) : r.logu(20_000, 10_000_000);
      const resp = this.httpExchange(r, host, si, start);
      if (tls) {
        msgs.push({ dir: 0, hdr: null, len: tlsLen(resp.req.length + 22), pool: this.randPool, poolOff: r.int(this.randPool.length), think, tlsBase: 0 });
        msgs.push({ dir: 1, hdr: null, len: tlsLen(resp.total + 22 * Math.ceil(resp.total / 16384)), pool: this.randPool, poolOff: r.int(this.randPool.length), think: rtt + resp.proc, tlsBase: 0 });
      } else {
        msgs.push({ dir: 0, hdr: resp.req, len: resp.req.length, pool: this.htmlPool, poolOff: 0, think, tlsBase: -1 });
        msgs.push({ dir: 1, hdr: resp.hdr, len: resp.total, pool: resp.pool, poolOff: resp.poolOff, think: rtt + resp.proc, tlsBase: -1 });
      }
    }
    if (tls && r.chance(0.03)) {
      // long-lived connection (push channel, websocket): small records every few seconds for minutes
      const rounds = r.range(10, 60);
      for (let k = 0; k < rounds; k++) {
        msgs.push({ dir: 1, hdr: null, len: r.range(40, 900), pool: this.randPool, poolOff: r.int(this.randPool.length), think: r.logu(2_000_000, 30_000_000), tlsBase: 0 });
        msgs.push({ dir: 0, hdr: null, len: r.range(30, 120), pool: this.randPool, poolOff: r.int(this.randPool.length), think: r.range(200, 5000), tlsBase: 0 });
      }
    }
    const c: ConvInit = {
      cIp: this.cIp[ci]!,
      cPort: this.ephemeral(ci),
      sIp: this.sIp[si]!,
      sPort: tls ? 443 : 80,
      cTtl: this.cTtl[ci]!,
      sTtl: this.sTtl[si]!,
      rtt,
      sByteUs: 8 / this.sMbps[si]!,
      cByteUs: 8 / 200,
      msgs,
      synRetries: r.chance(0.01) ? 1 : 0,
    };
    this.schedule(new TcpConv(this, start, c));
    this.note(tls ? 'tls' : 'http', c.cIp, c.sIp);
    return est + TcpConv.estimate(c);
  }

  private httpExchange(r: Rng, host: string, si: number, t: number): { req: Buffer; hdr: Buffer; total: number; pool: Buffer; poolOff: number; proc: number } {
    const v = r.float();
    let path: string;
    let ctype: string;
    let pool = this.htmlPool;
    if (v < 0.15) {
      path = '/';
      ctype = 'text/html; charset=utf-8';
    } else if (v < 0.3) {
      path = `/static/js/${r.pick(WORDS)}.${r.u32().toString(16)}.js`;
      ctype = 'application/javascript';
    } else if (v < 0.4) {
      path = `/static/css/${r.pick(WORDS)}.${r.u32().toString(16)}.css`;
      ctype = 'text/css';
    } else if (v < 0.65) {
      path = `/images/${r.pick(WORDS)}-${r.int(10000)}.${r.pick(['jpg', 'jpg', 'webp'])}`;
      ctype = path.endsWith('png') ? 'image/png' : path.endsWith('jpg') ? 'image/jpeg' : 'image/webp';
      pool = this.randPool;
    } else if (v < 0.85) {
      path = `/api/v1/${r.pick(WORDS)}/${r.int(1_000_000)}`;
      ctype = 'application/json';
    } else if (v < 0.9) {
      path = '/favicon.ico';
      ctype = 'image/x-icon';
      pool = this.randPool;
    } else {
      path = `/search?q=${r.pick(WORDS)}+${r.pick(WORDS)}&page=${r.range(1, 9)}`;
      ctype = 'text/html; charset=utf-8';
    }
    const ua = USER_AGENTS[Math.floor(USER_AGENTS.length * Math.pow(r.float(), 1.5))]!;
    const post = r.chance(0.06);
    let req: string;
    if (post) {
      const body = `{"${r.pick(WORDS)}":"${r.pick(WORDS)}","id":${r.int(1_000_000)},"items":[${Array.from({ length: r.range(1, 40) }, () => r.int(100000)).join(',')}]}`;
      req = `POST /api/v1/${r.pick(WORDS)} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`;
      ctype = 'application/json';
      pool = this.htmlPool;
    } else {
      req = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nAccept: ${ctype.startsWith('text/html') ? 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' : '*/*'}\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n`;
    }
    const date = new Date((BASE_SEC * 1e6 + t) / 1000).toUTCString();
    const proc = r.logu(300, 250_000);
    if (!post && r.chance(0.07)) {
      const body = this.notFound;
      const h = `HTTP/1.1 404 Not Found\r\nDate: ${date}\r\nServer: ${this.sSoft[si]}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
      const hdr = Buffer.concat([Buffer.from(h, 'latin1'), body]);
      return { req: Buffer.from(req, 'latin1'), hdr, total: hdr.length, pool, poolOff: 0, proc };
    }
    const u = r.float();
    const size = u < 0.6 ? r.range(100, 3000) : u < 0.9 ? r.range(3000, 30000) : u < 0.99 ? r.range(30000, 200000) : r.range(200000, 2000000);
    const h = `HTTP/1.1 200 OK\r\nDate: ${date}\r\nServer: ${this.sSoft[si]}\r\nContent-Type: ${ctype}\r\nContent-Length: ${size}\r\nConnection: keep-alive\r\nCache-Control: max-age=${r.pick([0, 60, 3600, 86400])}\r\n\r\n`;
    if (ctype === 'application/json') {
      // a complete, valid JSON document of exactly `size` bytes
      const hdr = Buffer.concat([Buffer.from(h, 'latin1'), jsonBody(r, size)]);
      return { req: Buffer.from(req, 'latin1'), hdr, total: hdr.length, pool, poolOff: 0, proc };
    }
    const hdr = Buffer.from(h, 'latin1');
    return { req: Buffer.from(req, 'latin1'), hdr, total: hdr.length + size, pool, poolOff: r.int(pool.length), proc };
  }

  private ping(t: number): number {
    const r = this.rng;
    const ci = this.clientIdx();
    const si = this.popularServer();
    const count = r.chance(0.8) ? 4 : r.range(1, 12);
    const answers = r.chance(0.9);
    this.schedule(new Ping(this, t, this.cIp[ci]!, this.sIp[si]!, count, this.sRtt[si]!, answers, this.sTtl[si]!));
    this.note('ping', this.cIp[ci]!, this.sIp[si]!);
    return answers ? count * 2 : count;
  }

  private ntp(t: number): number {
    const r = this.rng;
    const ci = this.clientIdx();
    const si = r.int(8); // a small pool of time servers
    const req = Buffer.alloc(48);
    req[0] = 0x23; // LI 0, VN 4, client
    const abs = BASE_SEC + 2208988800 + Math.floor(t / 1e6);
    req.writeUInt32BE(abs >>> 0, 40);
    req.writeUInt32BE(r.u32(), 44);
    const resp = Buffer.alloc(48);
    resp[0] = 0x24; // server
    resp[1] = 2;
    resp[2] = 3;
    resp[3] = 0xe9;
    resp.writeUInt32BE(r.u32() & 0xffff, 4);
    resp.writeUInt32BE(r.u32() & 0xfffff, 8);
    resp.writeUInt32BE(this.sIp[(si + 1) % this.nServers]!, 12);
    req.copy(resp, 24, 40, 48);
    for (const off of [16, 32, 40]) {
      resp.writeUInt32BE(abs >>> 0, off);
      resp.writeUInt32BE(r.u32(), off + 4);
    }
    this.schedule(new UdpExchange(t, this.cIp[ci]!, 123, this.sIp[si]!, 123, this.cTtl[ci]!, this.sTtl[si]!, req, r.chance(0.95) ? resp : null, this.sRtt[si]!));
    this.note('ntp', this.cIp[ci]!, this.sIp[si]!);
    return 2;
  }

  private failedTcp(t: number): number {
    const r = this.rng;
    const ci = this.clientIdx();
    const si = this.popularServer();
    const refused = r.chance(0.6);
    const c: ConvInit = {
      cIp: this.cIp[ci]!,
      cPort: this.ephemeral(ci),
      sIp: this.sIp[si]!,
      sPort: r.pick([8080, 8443, 3389, 25, 445, 21, 5222, 993, 1883, 9000]),
      cTtl: this.cTtl[ci]!,
      sTtl: this.sTtl[si]!,
      rtt: this.sRtt[si]!,
      sByteUs: 0.1,
      cByteUs: 0.1,
      msgs: [],
      answer: refused ? ANS_REFUSED : ANS_NONE,
      synRetries: refused ? 0 : r.range(1, 3),
    };
    this.schedule(new TcpConv(this, t, c));
    this.note('tcp_failed', c.cIp, c.sIp);
    return TcpConv.estimate(c);
  }

  private ssh(t: number): number {
    const r = this.rng;
    const ci = this.clientIdx();
    const internal = r.chance(0.5);
    const si = r.int(40);
    const sip = internal ? r.pick(SSH_INTERNAL) : this.sIp[si]!;
    const rtt = internal ? r.range(150, 900) : this.sRtt[si]!;
    const sTtl = internal ? 64 : this.sTtl[si]!;
    const rp = this.randPool;
    const opaque = (dir: 0 | 1, len: number, think: number): Msg => ({ dir, hdr: null, len, pool: rp, poolOff: r.int(rp.length), think, tlsBase: -1 });
    const plain = (dir: 0 | 1, b: Buffer, think: number): Msg => ({ dir, hdr: b, len: b.length, pool: rp, poolOff: 0, think, tlsBase: -1 });
    const msgs: Msg[] = [];
    msgs.push(plain(1, Buffer.from(SSH_SERVER_BANNER, 'latin1'), rtt + r.range(500, 3000)));
    msgs.push(plain(0, Buffer.from(SSH_CLIENT_BANNER, 'latin1'), r.range(100, 900)));
    msgs.push(plain(0, sshKexinit(r, true), r.range(50, 300)));
    msgs.push(plain(1, sshKexinit(r, false), rtt + r.range(100, 900)));
    const ecdhInit = sshPacket(r, Buffer.concat([Buffer.from([30]), sshString(r.bytes(32))]));
    msgs.push(plain(0, ecdhInit, r.range(200, 2000)));
    const hostKey = Buffer.concat([sshString('ssh-ed25519'), sshString(r.bytes(32))]);
    const sig = Buffer.concat([sshString('ssh-ed25519'), sshString(r.bytes(64))]);
    const reply = sshPacket(r, Buffer.concat([Buffer.from([31]), sshString(hostKey), sshString(r.bytes(32)), sshString(sig)]));
    const newkeys = sshPacket(r, Buffer.from([21]));
    msgs.push({ dir: 1, hdr: Buffer.concat([reply, newkeys]), len: reply.length + newkeys.length + 36 + 16 * r.range(1, 20), pool: rp, poolOff: r.int(rp.length), think: rtt + r.range(1000, 8000), tlsBase: -1 });
    msgs.push({ dir: 0, hdr: newkeys, len: newkeys.length + 44, pool: rp, poolOff: r.int(rp.length), think: r.range(300, 3000), tlsBase: -1 });
    // service request, user auth, channel open: encrypted
    const auth: Array<[0 | 1, number]> = [[1, 44], [0, 68], [1, 68], [0, 388], [1, 356], [0, 660], [1, 36], [0, 116], [1, 36], [0, 468], [1, 516]];
    for (const [d, len] of auth) msgs.push(opaque(d, len, d === 1 ? rtt + r.range(100, 5000) : r.range(100, 30_000)));
    const bulk = r.chance(0.2);
    if (bulk) {
      msgs.push(opaque(0, 116, r.logu(100_000, 3_000_000)));
      msgs.push(opaque(1, r.range(1_000_000, 12_000_000), rtt + r.range(500, 5000)));
    }
    const rounds = r.range(80, 700);
    for (let k = 0; k < rounds; k++) {
      msgs.push(opaque(0, 36, r.logu(60_000, 1_500_000)));
      msgs.push(opaque(1, 36, rtt + r.range(50, 500)));
      if (r.chance(0.08)) msgs.push(opaque(1, 36 + 16 * Math.floor(r.logu(2, 1500)), r.range(1000, 200_000)));
    }
    const c: ConvInit = {
      cIp: this.cIp[ci]!,
      cPort: this.ephemeral(ci),
      sIp: sip,
      sPort: 22,
      cTtl: this.cTtl[ci]!,
      sTtl,
      rtt,
      sByteUs: 8 / (internal ? 900 : this.sMbps[si]!),
      cByteUs: 8 / 200,
      msgs,
    };
    this.schedule(new TcpConv(this, t, c));
    this.note('ssh', c.cIp, sip);
    return TcpConv.estimate(c);
  }

  private portScan(src: number, dst: number, where: 'out' | 'in' | 'lan'): void {
    const r = this.rng;
    const ports: number[] = [];
    for (let p = 1; p <= 1024; p++) ports.push(p);
    for (const p of [1433, 1521, 3306, 3389, 5432, 5900, 6379, 8000, 8080, 8443, 9200, 27017]) ports.push(p);
    for (let i = ports.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      const x = ports[i]!;
      ports[i] = ports[j]!;
      ports[j] = x;
    }
    ports.length = 1000;
    const open = new Set([22, 80, 443]);
    const rtt = where === 'out' ? 20_000 : where === 'in' ? 300 : 400;
    const back = where === 'in' ? 40_000 : 40;
    const srcTtl = where === 'in' ? 49 : 64;
    this.schedule(new SynProber(this, this.nowUs, src, [dst], ports, (i) => (open.has(ports[i]!) ? 1 : 0), rtt, back, 350, srcTtl, 64));
    this.note('portscan', src, dst);
  }

  private icmpSweep(): void {
    const r = this.rng;
    const targets: number[] = [];
    for (let h = 1; h < 1023; h++) if ((h & 255) !== 0 && (h & 255) !== 255) targets.push((ip4(10, 77, 0, 0) + h) >>> 0);
    const alive = targets.map(() => r.chance(0.3));
    const src = this.randomClientIp();
    this.schedule(new IcmpSweep(this, this.nowUs, src, targets, (i) => alive[i]!));
    this.note('sweep', src, ...targets);
  }

  private tcpSweep(): void {
    const r = this.rng;
    const targets: number[] = [];
    for (let h = 1; h < 511; h++) if ((h & 255) !== 0 && (h & 255) !== 255) targets.push((ip4(10, 78, 0, 0) + h) >>> 0);
    const fate = targets.map(() => (r.chance(0.15) ? 1 : r.chance(0.12) ? 0 : 2));
    const src = this.randomClientIp();
    this.schedule(new SynProber(this, this.nowUs, src, targets, [445], (i) => fate[i]!, 400, 40, 1500, 64, 128));
    this.note('sweep', src, ...targets);
  }
}

function jsonBody(r: Rng, size: number): Buffer {
  const parts: string[] = ['{"items":['];
  let len = parts[0]!.length;
  const close = ']}';
  for (let i = 0; ; i++) {
    const item = `${i > 0 ? ',' : ''}{"id":${r.int(1_000_000)},"name":"${r.pick(WORDS)} ${r.pick(WORDS)}","score":${r.int(1000) / 10},"tags":["${r.pick(WORDS)}","${r.pick(WORDS)}"],"active":${r.chance(0.5)}}`;
    if (len + item.length + close.length > size) break;
    parts.push(item);
    len += item.length;
  }
  // JSON allows whitespace between tokens: pad to the exact length
  parts.push(' '.repeat(Math.max(0, size - len - close.length)), close);
  return Buffer.from(parts.join(''), 'latin1');
}

function writeMac(b: Buffer, o: number, ip: number): void {
  if (ip >>> 24 === 10) {
    b[o] = 0x52;
    b[o + 1] = 0x54;
    b[o + 2] = 0x00;
    b[o + 3] = (ip >>> 16) & 255;
    b[o + 4] = (ip >>> 8) & 255;
    b[o + 5] = ip & 255;
  } else {
    b.writeUInt16BE(ROUTER_MAC_HI, o);
    b.writeUInt32BE(ROUTER_MAC_LO, o + 2);
  }
}

// ---------------------------------------------------------------- entry points

export function generateCapture(opts: GenOptions = {}): GenMeta {
  const packets = opts.packets ?? DEFAULT_PACKETS;
  const out = resolve(opts.out ?? DEFAULT_OUT);
  const seed = opts.seed ?? DEFAULT_SEED;
  const durationSec = opts.durationSec ?? DEFAULT_DURATION_SEC;
  if (!Number.isInteger(packets) || packets < 1) throw new Error(`--packets must be a positive integer, got ${packets}`);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const t0 = process.hrtime.bigint();
  const fd = openSync(tmp, 'w');
  let g: Gen;
  try {
    g = new Gen(fd, seed, packets, durationSec * 1e6);
    g.run(opts.progress);
    g.finish();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  const genSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const meta: GenMeta = {
    generatorVersion: GENERATOR_VERSION,
    file: out,
    packets: g.packets,
    bytes: g.fileBytes,
    seed,
    requestedDurationSec: durationSec,
    firstTs: BASE_SEC + g.firstTs / 1e6,
    lastTs: BASE_SEC + g.lastTs / 1e6,
    spanSec: 0,
    distinctHosts: g.hosts.size,
    flows: { ...g.flows },
    genSeconds: Math.round(genSeconds * 100) / 100,
  };
  meta.spanSec = Math.round((meta.lastTs - meta.firstTs) * 10) / 10;
  writeFileSync(metaPathFor(out), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

function parseArgs(argv: string[]): GenOptions {
  const o: GenOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    switch (k) {
      case '--packets':
        o.packets = Number(val().replace(/_/g, ''));
        break;
      case '--out':
        o.out = val();
        break;
      case '--seed':
        o.seed = Number(val());
        break;
      case '--duration':
        o.durationSec = Number(val());
        break;
      case '-h':
      case '--help':
        console.log('usage: node dist-bench/gen-capture.js [--packets N] [--out FILE] [--seed N] [--duration SEC]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    opts.progress = (n) => process.stderr.write(`\r  ${n.toLocaleString('en-US')} packets`);
    const m = generateCapture(opts);
    process.stderr.write('\r');
    console.log(`${m.file}: ${m.packets} packets, ${(m.bytes / 2 ** 20).toFixed(1)} MiB, ${m.spanSec} s of traffic, ${m.distinctHosts} hosts, generated in ${m.genSeconds} s`);
    console.log(`flows: ${Object.entries(m.flows).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  } catch (e) {
    console.error(`gen-capture: ${(e as Error).message}`);
    process.exit(2);
  }
}
