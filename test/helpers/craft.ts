/** Crafting packets and capture files byte by byte for unit tests. */

export function ipv4(s: string): number[] { return s.split('.').map(Number); }

export function u16(n: number): number[] { return [(n >> 8) & 255, n & 255]; }
export function u32(n: number): number[] { return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]; }

export function ethernet(payload: number[], type = 0x0800, tags: { tpid: number; vid: number }[] = []): number[] {
  const out = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  for (const t of tags) out.push(...u16(t.tpid), ...u16(t.vid));
  out.push(...u16(type), ...payload);
  return out;
}

export function ipv4Header(src: string, dst: string, proto: number, payloadLen: number, opts: { id?: number; frag?: number; options?: number[]; ttl?: number } = {}): number[] {
  const options = opts.options ?? [];
  const hl = 20 + options.length;
  return [
    0x40 | (hl / 4), 0, ...u16(hl + payloadLen), ...u16(opts.id ?? 1), ...u16(opts.frag ?? 0),
    opts.ttl ?? 64, proto, 0, 0, ...ipv4(src), ...ipv4(dst), ...options,
  ];
}

export function ipv4Packet(src: string, dst: string, proto: number, payload: number[], opts: Parameters<typeof ipv4Header>[4] = {}): number[] {
  return [...ipv4Header(src, dst, proto, payload.length, opts), ...payload];
}

export function ipv6Addr(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

export function ipv6Packet(src: string, dst: string, next: number, payload: number[]): number[] {
  return [0x60, 0, 0, 0, ...u16(payload.length), next, 64, ...ipv6Addr(src), ...ipv6Addr(dst), ...payload];
}

/**
 * `count` chained IPv6 destination-options headers (8 bytes each, PadN) in front of
 * `payload`, the last one naming `next`. Returns [first next-header value, bytes].
 */
export function ipv6ExtChain(count: number, next: number, payload: number[]): [number, number[]] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(i === count - 1 ? next : 60, 0, 1, 4, 0, 0, 0, 0);
  return [count > 0 ? 60 : next, [...out, ...payload]];
}

export function tcp(sport: number, dport: number, flags: number, payload: number[] = [], seq = 1000, ack = 0, options: number[] = []): number[] {
  const hl = 20 + options.length;
  return [...u16(sport), ...u16(dport), ...u32(seq), ...u32(ack), (hl / 4) << 4, flags, ...u16(65535), 0, 0, 0, 0, ...options, ...payload];
}

export function udp(sport: number, dport: number, payload: number[]): number[] {
  return [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
}

export function ascii(s: string): number[] { return [...Buffer.from(s, 'latin1')]; }

/** DNS name in wire format (no compression). */
export function dnsName(name: string): number[] {
  if (name === '') return [0];
  return [...name.split('.').flatMap((l) => [l.length, ...ascii(l)]), 0];
}

export interface Rec { sec: number; frac: number; data: number[]; orig?: number }

/** Classic pcap. */
export function pcapFile(recs: Rec[], o: { le?: boolean; ns?: boolean; linktype?: number; snaplen?: number } = {}): Buffer {
  const le = o.le ?? true;
  const w32 = (n: number): Buffer => { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(n >>> 0); else b.writeUInt32BE(n >>> 0); return b; };
  const w16 = (n: number): Buffer => { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(n); else b.writeUInt16BE(n); return b; };
  const parts = [w32(o.ns ? 0xa1b23c4d : 0xa1b2c3d4), w16(2), w16(4), w32(0), w32(0), w32(o.snaplen ?? 262144), w32(o.linktype ?? 1)];
  for (const r of recs) parts.push(w32(r.sec), w32(r.frac), w32(r.data.length), w32(r.orig ?? r.data.length), Buffer.from(r.data));
  return Buffer.concat(parts);
}

/** pcapng builder. */
export class Pcapng {
  private parts: Buffer[] = [];
  constructor(private le = true) {}
  private w32(n: number): Buffer { const b = Buffer.alloc(4); if (this.le) b.writeUInt32LE(n >>> 0); else b.writeUInt32BE(n >>> 0); return b; }
  private w16(n: number): Buffer { const b = Buffer.alloc(2); if (this.le) b.writeUInt16LE(n); else b.writeUInt16BE(n); return b; }
  private block(type: number, body: Buffer): this {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    this.parts.push(this.w32(type), this.w32(len), body, pad, this.w32(len));
    return this;
  }
  shb(le = this.le): this {
    this.le = le;
    return this.block(0x0a0d0d0a, Buffer.concat([this.w32(0x1a2b3c4d), this.w16(1), this.w16(0), this.w32(0xffffffff), this.w32(0xffffffff)]));
  }
  idb(linktype: number, tsresol?: number, snaplen = 0): this {
    const opts: Buffer[] = [];
    if (tsresol !== undefined) opts.push(this.w16(9), this.w16(1), Buffer.from([tsresol, 0, 0, 0]));
    if (opts.length) opts.push(this.w16(0), this.w16(0));
    return this.block(1, Buffer.concat([this.w16(linktype), this.w16(0), this.w32(snaplen), ...opts]));
  }
  /** ts in interface units as a bigint */
  epb(iface: number, units: bigint, data: number[], orig?: number): this {
    const hi = Number(units >> 32n), lo = Number(units & 0xffffffffn);
    return this.block(6, Buffer.concat([this.w32(iface), this.w32(hi), this.w32(lo), this.w32(data.length), this.w32(orig ?? data.length), Buffer.from(data)]));
  }
  opb(iface: number, units: bigint, data: number[]): this {
    const hi = Number(units >> 32n), lo = Number(units & 0xffffffffn);
    return this.block(2, Buffer.concat([this.w16(iface), this.w16(0), this.w32(hi), this.w32(lo), this.w32(data.length), this.w32(data.length), Buffer.from(data)]));
  }
  spb(data: number[]): this {
    return this.block(3, Buffer.concat([this.w32(data.length), Buffer.from(data)]));
  }
  unknown(): this { return this.block(0x80000001, Buffer.from([1, 2, 3, 4])); }
  build(): Buffer { return Buffer.concat(this.parts); }
}
