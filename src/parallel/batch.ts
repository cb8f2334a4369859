/**
 * The packet batches the dispatcher hands to a flow worker: one transferred
 * buffer per batch (no message per packet), records back to back:
 *
 *   packet  u8 0, u8 digits, u16 0, u32 linktype, f64 seq, f64 tsSec, u32 tsNsec,
 *           u32 caplen, u32 wirelen, u32 0, caplen bytes (padded to 8)
 *   tick    u8 1, 7 × 0, f64 seq, f64 tsSec, u32 tsNsec, 12 × 0
 *
 * seq is the packet's place in the whole stream: the order every event is
 * merged back in. A tick is where the whole stream's clock moved to a new
 * second (the single-thread pipeline's advance()): every worker gets it.
 */
import type { TsDigits } from '../capture/types.js';

export const HEADER = 40;
export const REC_PACKET = 0;
export const REC_TICK = 1;

export class BatchWriter {
  buf: Buffer;
  len = 0;
  packets = 0;

  constructor(private readonly size: number) { this.buf = Buffer.allocUnsafe(size); }

  /** bytes a packet of caplen takes */
  static need(caplen: number): number { return HEADER + ((caplen + 7) & ~7); }

  room(n: number): boolean { return this.len + n <= this.buf.length; }

  packet(seq: number, linktype: number, tsSec: number, tsNsec: number, src: Buffer, off: number, caplen: number, wirelen: number, digits: TsDigits): void {
    const need = BatchWriter.need(caplen);
    if (need > this.buf.length - this.len) this.grow(need);
    const b = this.buf, o = this.len;
    b[o] = REC_PACKET; b[o + 1] = digits; b.writeUInt16LE(0, o + 2);
    b.writeUInt32LE(linktype, o + 4);
    b.writeDoubleLE(seq, o + 8);
    b.writeDoubleLE(tsSec, o + 16);
    b.writeUInt32LE(tsNsec, o + 24);
    b.writeUInt32LE(caplen, o + 28);
    b.writeUInt32LE(wirelen, o + 32);
    src.copy(b, o + HEADER, off, off + caplen);
    this.len = o + need;
    this.packets++;
  }

  tick(seq: number, tsSec: number, tsNsec: number): void {
    if (HEADER > this.buf.length - this.len) this.grow(HEADER);
    const b = this.buf, o = this.len;
    b[o] = REC_TICK;
    b.writeDoubleLE(seq, o + 8);
    b.writeDoubleLE(tsSec, o + 16);
    b.writeUInt32LE(tsNsec, o + 24);
    this.len = o + HEADER;
  }

  /** Hands the filled part over (the buffer is transferred) and starts a new one. */
  take(): ArrayBuffer {
    const out = this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.len) as ArrayBuffer;
    this.len = 0;
    this.packets = 0;
    return out;
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.size, this.len + need) * 2);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
}
