/**
 * Capture-file record parsers: classic pcap (both byte orders, µs and ns magic)
 * and pcapng (SHB in either byte order, IDB with if_tsresol/if_tsoffset,
 * EPB, SPB, obsolete PB, several interfaces and sections).
 *
 * Both parsers are push parsers over a contiguous byte range: `parse(buf,
 * off, end)` consumes whole records, hands each packet to the sink by offset
 * (no copy, no object per packet) and returns the offset of the first byte it
 * could not consume yet (an incomplete record at the end of the chunk). The
 * streaming reader (reader.ts) keeps that tail and prepends it to the next
 * chunk. A malformed record throws FormatError: reading stops there, with
 * everything before it already delivered.
 */
import type { PacketSink, TsDigits } from './types.js';

export class FormatError extends Error {}

/** Largest record we accept, as tcpdump does (MAXIMUM_SNAPLEN 262144), with slack for pcapng blocks. */
export const MAX_RECORD = 262144;
const MAX_BLOCK = 16 * 1024 * 1024;

export interface RecordParser {
  readonly format: 'pcap' | 'pcapng';
  parse(buf: Buffer, off: number, end: number, sink: PacketSink): number;
  /** packets delivered so far */
  packets: number;
  /** bytes of packet data delivered (captured lengths) */
  bytes: number;
}

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a;

/** Pick the parser from the first 4 bytes, or null when they are no capture magic we know. */
export function detectFormat(head: Buffer): RecordParser | null {
  if (head.length < 4) return null;
  const le = head.readUInt32LE(0);
  const be = head.readUInt32BE(0);
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return new PcapParser(true, le === PCAP_MAGIC_NS ? 9 : 6);
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return new PcapParser(false, be === PCAP_MAGIC_NS ? 9 : 6);
  if (le === PCAPNG_SHB) return new PcapngParser();
  return null;
}

/** Classic libpcap format: a 24-byte file header then 16-byte record headers. */
export class PcapParser implements RecordParser {
  readonly format = 'pcap' as const;
  packets = 0;
  bytes = 0;
  linktype = -1;
  snaplen = 0;
  private headerDone = false;
  private readonly nsMul: number;

  constructor(private readonly le: boolean, readonly digits: TsDigits) {
    this.nsMul = digits === 9 ? 1 : 1000;
  }

  parse(buf: Buffer, off: number, end: number, sink: PacketSink): number {
    const le = this.le;
    if (!this.headerDone) {
      if (end - off < 24) return off;
      const major = le ? buf.readUInt16LE(off + 4) : buf.readUInt16BE(off + 4);
      if (major !== 2) throw new FormatError(`unsupported pcap version ${major}`);
      this.snaplen = le ? buf.readUInt32LE(off + 16) : buf.readUInt32BE(off + 16);
      // The upper bits of the link-type field carry FCS information (pcap spec §LinkType).
      this.linktype = (le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20)) & 0xffff;
      this.headerDone = true;
      off += 24;
    }
    const limit = this.snaplen > MAX_RECORD ? this.snaplen : MAX_RECORD;
    const linktype = this.linktype;
    const nsMul = this.nsMul;
    const digits = this.digits;
    // Per-record hot loop: header fields by byte arithmetic (Buffer.readUInt32* validate
    // their offset on every call; 16 bytes are known to be there).
    const b = buf;
    while (end - off >= 16) {
      let sec: number, frac: number, incl: number, orig: number;
      if (le) {
        sec = (b[off]! | b[off + 1]! << 8 | b[off + 2]! << 16) + ((b[off + 3]! << 24) >>> 0);
        frac = (b[off + 4]! | b[off + 5]! << 8 | b[off + 6]! << 16) + ((b[off + 7]! << 24) >>> 0);
        incl = (b[off + 8]! | b[off + 9]! << 8 | b[off + 10]! << 16) + ((b[off + 11]! << 24) >>> 0);
        orig = (b[off + 12]! | b[off + 13]! << 8 | b[off + 14]! << 16) + ((b[off + 15]! << 24) >>> 0);
      } else {
        sec = ((b[off]! << 24) >>> 0) + (b[off + 1]! << 16 | b[off + 2]! << 8 | b[off + 3]!);
        frac = ((b[off + 4]! << 24) >>> 0) + (b[off + 5]! << 16 | b[off + 6]! << 8 | b[off + 7]!);
        incl = ((b[off + 8]! << 24) >>> 0) + (b[off + 9]! << 16 | b[off + 10]! << 8 | b[off + 11]!);
        orig = ((b[off + 12]! << 24) >>> 0) + (b[off + 13]! << 16 | b[off + 14]! << 8 | b[off + 15]!);
      }
      if (incl > limit) {
        throw new FormatError(`corrupt record ${this.packets + 1}: captured length ${incl} exceeds ${limit}`);
      }
      if (end - off < 16 + incl) break;
      sink.packet(linktype, sec, frac * nsMul, b, off + 16, incl, orig < incl ? incl : orig, digits);
      this.packets++;
      this.bytes += incl;
      off += 16 + incl;
    }
    return off;
  }
}

interface NgInterface {
  linktype: number;
  snaplen: number;
  /** units per second as 10^exp (decimal) or 2^exp (binary) */
  decimal: boolean;
  exp: number;
  /** seconds added to every timestamp (if_tsoffset) */
  offset: number;
  digits: TsDigits;
}

/** pcapng (draft-ietf-opsawg-pcapng): blocks of type, length, body, length. */
export class PcapngParser implements RecordParser {
  readonly format = 'pcapng' as const;
  packets = 0;
  bytes = 0;
  sections = 0;
  private le = true;
  private ifaces: NgInterface[] = [];
  /** every interface seen in the file, in order (for reporting) */
  readonly allInterfaces: { linktype: number; section: number }[] = [];
  /** SPBs carry no timestamp: they get the last one seen */
  private lastSec = 0;
  private lastNsec = 0;
  private lastDigits: TsDigits = 6;

  parse(buf: Buffer, off: number, end: number, sink: PacketSink): number {
    while (end - off >= 12) {
      let type = this.u32(buf, off);
      if (buf[off] === 0x0a && buf[off + 1] === 0x0d && buf[off + 2] === 0x0d && buf[off + 3] === 0x0a) {
        // Section header: its byte-order magic decides how to read everything after it.
        if (end - off < 28) return off;
        const bom = buf.readUInt32LE(off + 8);
        if (bom === 0x1a2b3c4d) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else throw new FormatError(`pcapng section ${this.sections + 1}: bad byte-order magic`);
        type = PCAPNG_SHB;
      }
      const len = this.u32(buf, off + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        throw new FormatError(`corrupt pcapng block after ${this.packets} packets: length ${len}`);
      }
      if (end - off < len) break;
      const body = off + 8;
      const bodyEnd = off + len - 4;
      switch (type) {
        case PCAPNG_SHB:
          this.sections++;
          this.ifaces = [];
          break;
        case 1: this.readIdb(buf, body, bodyEnd); break;
        case 6: this.readEpb(buf, body, bodyEnd, sink); break;
        case 3: this.readSpb(buf, body, bodyEnd, sink); break;
        case 2: this.readOpb(buf, body, bodyEnd, sink); break;
        default: break; // name resolution, statistics, custom, decryption secrets: not needed
      }
      off += len;
    }
    return off;
  }

  // Byte arithmetic rather than Buffer.readUInt*: callers have checked the block's bounds.
  private u16(b: Buffer, o: number): number { return this.le ? b[o]! | b[o + 1]! << 8 : b[o]! << 8 | b[o + 1]!; }
  private u32(b: Buffer, o: number): number {
    return this.le
      ? (b[o]! | b[o + 1]! << 8 | b[o + 2]! << 16) + ((b[o + 3]! << 24) >>> 0)
      : ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16 | b[o + 2]! << 8 | b[o + 3]!);
  }

  private readIdb(buf: Buffer, o: number, e: number): void {
    if (e - o < 8) throw new FormatError('corrupt pcapng interface description block');
    const iface: NgInterface = {
      linktype: this.u16(buf, o), snaplen: this.u32(buf, o + 4),
      decimal: true, exp: 6, offset: 0, digits: 6,
    };
    let p = o + 8;
    while (e - p >= 4) {
      const code = this.u16(buf, p);
      const olen = this.u16(buf, p + 2);
      if (code === 0) break;
      const v = p + 4;
      if (v + olen > e) break;
      if (code === 9 && olen >= 1) {
        const r = buf[v]!;
        iface.decimal = (r & 0x80) === 0;
        iface.exp = r & 0x7f;
      } else if (code === 14 && olen >= 8) {
        const hi = this.le ? buf.readInt32LE(v + 4) : buf.readInt32BE(v);
        const lo = this.le ? buf.readUInt32LE(v) : buf.readUInt32BE(v + 4);
        iface.offset = hi * 4294967296 + lo;
      }
      p = v + ((olen + 3) & ~3);
    }
    iface.digits = iface.decimal ? (iface.exp > 6 ? 9 : 6) : (iface.exp > 20 ? 9 : 6);
    this.ifaces.push(iface);
    this.allInterfaces.push({ linktype: iface.linktype, section: this.sections });
  }

  private iface(id: number): NgInterface {
    const i = this.ifaces[id];
    if (!i) throw new FormatError(`pcapng packet refers to interface ${id}, which was not described`);
    return i;
  }

  /** Splits a 64-bit timestamp in interface units into seconds and nanoseconds, exactly. */
  private setTime(iface: NgInterface, hi: number, lo: number): void {
    let sec: number, nsec: number;
    if (iface.decimal && iface.exp <= 9) {
      const div = POW10[iface.exp]!;
      // Long division in 16-bit digits keeps every intermediate below 2^53.
      let r = 0;
      const d0 = hi >>> 16, d1 = hi & 0xffff, d2 = lo >>> 16, d3 = lo & 0xffff;
      let q = 0;
      let x = r * 65536 + d0; q = Math.floor(x / div); r = x - q * div; let qs = q;
      x = r * 65536 + d1; q = Math.floor(x / div); r = x - q * div; qs = qs * 65536 + q;
      x = r * 65536 + d2; q = Math.floor(x / div); r = x - q * div; qs = qs * 65536 + q;
      x = r * 65536 + d3; q = Math.floor(x / div); r = x - q * div; qs = qs * 65536 + q;
      sec = qs;
      nsec = r * POW10[9 - iface.exp]!;
    } else {
      // Rare resolutions (binary, or finer than ns): exact with BigInt.
      const units = (BigInt(hi) << 32n) | BigInt(lo);
      const per = iface.decimal ? 10n ** BigInt(iface.exp) : 1n << BigInt(iface.exp);
      sec = Number(units / per);
      nsec = Number(((units % per) * 1_000_000_000n) / per);
    }
    this.lastSec = sec + iface.offset;
    this.lastNsec = nsec;
    this.lastDigits = iface.digits;
  }

  private deliver(sink: PacketSink, linktype: number, buf: Buffer, o: number, cap: number, orig: number): void {
    sink.packet(linktype, this.lastSec, this.lastNsec, buf, o, cap, orig < cap ? cap : orig, this.lastDigits);
    this.packets++;
    this.bytes += cap;
  }

  private readEpb(buf: Buffer, o: number, e: number, sink: PacketSink): void {
    if (e - o < 20) throw new FormatError(`corrupt enhanced packet block after ${this.packets} packets`);
    const iface = this.iface(this.u32(buf, o));
    this.setTime(iface, this.u32(buf, o + 4), this.u32(buf, o + 8));
    const cap = this.u32(buf, o + 12);
    if (cap > e - o - 20) throw new FormatError(`corrupt enhanced packet block after ${this.packets} packets: captured length ${cap}`);
    this.deliver(sink, iface.linktype, buf, o + 20, cap, this.u32(buf, o + 16));
  }

  private readOpb(buf: Buffer, o: number, e: number, sink: PacketSink): void {
    if (e - o < 20) throw new FormatError(`corrupt packet block after ${this.packets} packets`);
    const iface = this.iface(this.u16(buf, o));
    this.setTime(iface, this.u32(buf, o + 4), this.u32(buf, o + 8));
    const cap = this.u32(buf, o + 12);
    if (cap > e - o - 20) throw new FormatError(`corrupt packet block after ${this.packets} packets: captured length ${cap}`);
    this.deliver(sink, iface.linktype, buf, o + 20, cap, this.u32(buf, o + 16));
  }

  private readSpb(buf: Buffer, o: number, e: number, sink: PacketSink): void {
    if (e - o < 4) throw new FormatError(`corrupt simple packet block after ${this.packets} packets`);
    const iface = this.iface(0);
    const orig = this.u32(buf, o);
    let cap = Math.min(orig, e - o - 4);
    if (iface.snaplen > 0 && cap > iface.snaplen) cap = iface.snaplen;
    this.deliver(sink, iface.linktype, buf, o + 4, cap, orig);
  }
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
