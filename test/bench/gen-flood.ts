/**
 * Worst-case captures: floods from spoofed random sources, where every packet
 * is a new flow and new per-source detector state.
 *
 *   syn   TCP SYNs from random IPv4 sources and ports to one victim (10.77.0.2:80)
 *   udp   UDP datagrams, every one a distinct flow (random source, ports) to a /24
 *   icmp  ICMP echo requests from random sources to one victim
 *   dns   DNS queries for random names under one zone, from random sources, to one resolver
 *
 * Classic pcap, little-endian, microseconds, Ethernet; the timestamps advance
 * at `rate` packets per second of packet time. Packets are written through one
 * reused buffer, so the generator's memory is flat and it can stream to a pipe.
 *
 * Usage: node dist-bench/gen-flood.js [--kind syn|udp|icmp|dns] [--packets N] [--rate PPS] [--seed N] [--out FILE|-]
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type FloodKind = 'syn' | 'udp' | 'icmp' | 'dns';
export const FLOOD_KINDS: readonly FloodKind[] = ['syn', 'udp', 'icmp', 'dns'];

export interface FloodOptions {
  kind?: FloodKind;
  packets?: number;
  /** packets per second of packet time (default 200,000) */
  rate?: number;
  seed?: number;
}

const BASE_SEC = 1_800_000_000;
const VICTIM = 0x0a4d0002; // 10.77.0.2
const CHUNK = 1 << 20;

/** xorshift32: enough for spoofed addresses, and fast. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

function ipChecksum(b: Buffer, off: number): void {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, off + 10);
}

/** A random unicast source outside 0/8, 10/8, 127/8 and multicast (a spoofer's pick). */
function spoofed(r: () => number): number {
  for (;;) {
    const a = r();
    const top = a >>> 24;
    if (top !== 0 && top !== 10 && top !== 127 && top < 224) return a;
  }
}

/**
 * Writes the flood as pcap chunks to `write` (a file descriptor writer or a stream).
 * Returns the number of packets written.
 */
export function writeFlood(opts: FloodOptions, write: (chunk: Buffer) => void): number {
  const kind = opts.kind ?? 'syn';
  const n = opts.packets ?? 1_000_000;
  const rate = opts.rate ?? 200_000;
  const r = rng(opts.seed ?? 0x5eed);
  const buf = Buffer.alloc(CHUNK + 2048);
  // global header
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(262144, 16);
  buf.writeUInt32LE(1, 20);
  let pos = 24;
  const usStep = 1e6 / rate;
  for (let i = 0; i < n; i++) {
    if (pos > CHUNK) { write(buf.subarray(0, pos)); pos = 0; }
    const us = Math.floor(i * usStep);
    const rec = pos;
    const e = rec + 16;
    // Ethernet
    buf.writeUInt32BE(0x02005e00, e); buf.writeUInt16BE(0x0001, e + 4);
    buf.writeUInt32BE(0x02005e00, e + 6); buf.writeUInt16BE(0x0002, e + 10);
    buf.writeUInt16BE(0x0800, e + 12);
    const ip = e + 14;
    const src = spoofed(r);
    let dst = VICTIM;
    let proto = 6;
    let l4len: number;
    const l4 = ip + 20;
    if (kind === 'syn') {
      l4len = 20;
      buf.writeUInt16BE(1024 + (r() % 64000), l4);
      buf.writeUInt16BE(80, l4 + 2);
      buf.writeUInt32BE(r(), l4 + 4);
      buf.writeUInt32BE(0, l4 + 8);
      buf[l4 + 12] = 0x50; buf[l4 + 13] = 0x02; buf.writeUInt16BE(64240, l4 + 14);
      buf.writeUInt32BE(0, l4 + 16);
    } else if (kind === 'udp') {
      proto = 17;
      l4len = 8 + 32;
      dst = (VICTIM & 0xffffff00) | (r() & 0xff);
      buf.writeUInt16BE(1024 + (r() % 64000), l4);
      buf.writeUInt16BE(1024 + (r() % 64000), l4 + 2);
      buf.writeUInt16BE(l4len, l4 + 4);
      buf.writeUInt16BE(0, l4 + 6);
      buf.fill(0x41, l4 + 8, l4 + l4len);
    } else if (kind === 'icmp') {
      proto = 1;
      l4len = 8 + 56;
      buf[l4] = 8; buf[l4 + 1] = 0; buf.writeUInt16BE(0, l4 + 2);
      buf.writeUInt16BE(r() & 0xffff, l4 + 4); buf.writeUInt16BE(i & 0xffff, l4 + 6);
      buf.fill(0x61, l4 + 8, l4 + l4len);
    } else {
      proto = 17;
      // query <8 hex>.<8 hex>.flood.example A
      const d = l4 + 8;
      buf.writeUInt16BE(r() & 0xffff, d);
      buf.writeUInt16BE(0x0100, d + 2);
      buf.writeUInt16BE(1, d + 4); buf.writeUInt32BE(0, d + 6); buf.writeUInt16BE(0, d + 10);
      let q = d + 12;
      for (let k = 0; k < 2; k++) {
        buf[q++] = 8;
        buf.write(r().toString(16).padStart(8, '0'), q, 'latin1');
        q += 8;
      }
      buf[q++] = 5; buf.write('flood', q, 'latin1'); q += 5;
      buf[q++] = 7; buf.write('example', q, 'latin1'); q += 7;
      buf[q++] = 0;
      buf.writeUInt16BE(1, q); buf.writeUInt16BE(1, q + 2); q += 4;
      l4len = q - l4;
      buf.writeUInt16BE(1024 + (r() % 64000), l4);
      buf.writeUInt16BE(53, l4 + 2);
      buf.writeUInt16BE(l4len, l4 + 4);
      buf.writeUInt16BE(0, l4 + 6);
    }
    const iplen = 20 + l4len;
    buf[ip] = 0x45; buf[ip + 1] = 0; buf.writeUInt16BE(iplen, ip + 2);
    buf.writeUInt16BE(i & 0xffff, ip + 4); buf.writeUInt16BE(0, ip + 6);
    buf[ip + 8] = 64; buf[ip + 9] = proto; buf.writeUInt16BE(0, ip + 10);
    buf.writeUInt32BE(src, ip + 12); buf.writeUInt32BE(dst, ip + 16);
    ipChecksum(buf, ip);
    const frame = 14 + iplen;
    const len = frame < 60 ? 60 : frame;
    if (frame < 60) buf.fill(0, e + frame, e + 60);
    buf.writeUInt32LE(BASE_SEC + Math.floor(us / 1e6), rec);
    buf.writeUInt32LE(us % 1e6, rec + 4);
    buf.writeUInt32LE(len, rec + 8);
    buf.writeUInt32LE(len, rec + 12);
    pos = e + len;
  }
  if (pos > 0) write(buf.subarray(0, pos));
  return n;
}

/** Writes the flood to a file (or '-' for stdout); returns the packet count. */
export function generateFlood(opts: FloodOptions & { out: string }): number {
  const toStdout = opts.out === '-';
  if (!toStdout) mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  const fd = toStdout ? 1 : openSync(opts.out, 'w');
  try {
    return writeFlood(opts, (c) => {
      let o = 0;
      while (o < c.length) {
        try {
          o += writeSync(fd, c, o, c.length - o);
        } catch (e) {
          // a non-blocking stdout pipe that is full: retry
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
      }
    });
  } finally {
    if (!toStdout) closeSync(fd);
  }
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const o: FloodOptions & { out: string } = { out: '-' };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const v = a[i + 1];
    const num = (): number => {
      const x = Number((v ?? '').replace(/_/g, ''));
      if (!Number.isFinite(x) || x <= 0) { console.error(`gen-flood: ${a[i]} needs a positive number`); process.exit(2); }
      i++;
      return x;
    };
    switch (a[i]) {
      case '--kind':
        if (!FLOOD_KINDS.includes(v as FloodKind)) { console.error(`gen-flood: --kind is one of ${FLOOD_KINDS.join(', ')}`); process.exit(2); }
        o.kind = v as FloodKind; i++;
        break;
      case '--packets': o.packets = num(); break;
      case '--rate': o.rate = num(); break;
      case '--seed': o.seed = num(); break;
      case '--out': o.out = v ?? '-'; i++; break;
      default:
        console.error('usage: node dist-bench/gen-flood.js [--kind syn|udp|icmp|dns] [--packets N] [--rate PPS] [--seed N] [--out FILE|-]');
        process.exit(2);
    }
  }
  generateFlood(o);
}
