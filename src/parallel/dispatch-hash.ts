/**
 * Which flow worker owns a packet: a symmetric hash of the innermost IP
 * address pair (both directions of a flow, and every fragment of a datagram,
 * land on the same worker without reassembling anything here). The address
 * pair, not the 5-tuple: a fragment after the first carries no ports, and an
 * ICMP message about a flow carries the same pair. A tap sees thousands of
 * host pairs, so the share per worker stays even (the bench capture: see the
 * README's scaling table); one pair's flows all go to one worker.
 *
 * Packets with no IP layer (ARP, unknown link types, truncated headers) go to
 * worker 0, which counts them as the single-thread pipeline would.
 */
import { decodeLink } from '../decode/decode.js';
import { Packet } from '../decode/packet.js';

const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;
const MAX_TUNNEL_DEPTH = 4;

function mix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Dispatcher {
  private readonly scratch = new Packet();
  constructor(readonly workers: number) {}

  /** the worker (0 .. workers-1) that owns this packet */
  owner(linktype: number, buf: Buffer, off: number, caplen: number): number {
    if (this.workers === 1) return 0;
    const end = off + caplen;
    const r = decodeLink(this.scratch, linktype, buf, off, end);
    if (r < 0) return 0;
    let ver = r & 7, p = (r - ver) / 8;
    for (let depth = 0; ; depth++) {
      let x: number, y: number, next: number, inner: number;
      if (ver === 4) {
        if (end - p < 20) return 0;
        const s = buf.readUInt32BE(p + 12), d = buf.readUInt32BE(p + 16);
        x = s ^ d; y = (s + d) | 0;
        next = buf[p + 9]!;
        inner = p + (buf[p]! & 15) * 4;
        // a fragment stays with its datagram's outer pair (the worker reassembles it there)
        if ((buf.readUInt16BE(p + 6) & 0x3fff) !== 0) next = -1;
      } else {
        if (end - p < 40) return 0;
        x = 0; y = 0;
        for (let i = 0; i < 16; i += 4) {
          const s = buf.readUInt32BE(p + 8 + i), d = buf.readUInt32BE(p + 24 + i);
          x = Math.imul(x ^ (s ^ d), 0x9e3779b1); y = (y + s + d) | 0;
        }
        next = buf[p + 6]!;
        inner = p + 40;
      }
      // IP-in-IP: the inner header names the flow's endpoints (as decode does)
      if ((next === IPPROTO_IPIP || next === IPPROTO_IPV6) && depth < MAX_TUNNEL_DEPTH && end - inner >= 1) {
        const v = buf[inner]! >> 4;
        if (v === 4 || v === 6) { ver = v; p = inner; continue; }
      }
      return mix(x ^ Math.imul(y, 0x27d4eb2d)) % this.workers;
    }
  }
}
