/**
 * One direction of a TCP byte stream, put back in order for an application
 * parser. Only flows whose application layer we parse get one; bulk
 * transfers never copy a byte.
 *
 * Retransmitted and overlapping bytes are trimmed. Segments that arrive ahead
 * of a hole are copied and held (bounded by MAX_PENDING_* below); when the
 * bound is hit, or the flow ends, the hole is declared a gap and the parser
 * is told how many bytes it missed, as Zeek's "content gap" does.
 */

import type { PacketTime } from '../events/types.js';

export interface StreamConsumer {
  /**
   * in-order bytes buf[off, off+len) of one segment; t is the segment's packet
   * time. `t` is valid during the call only (the tracker hands over its reused
   * packet record, so that no time object is made per segment): a consumer
   * that keeps it past the call keeps `copyTime(t)`.
   */
  data(buf: Buffer, off: number, len: number, t: PacketTime): void;
  /**
   * `len` bytes will never arrive. `cut` is true when they are the tail of a
   * segment the snap length cut short (what came before them is the head of
   * that same segment), false when whole segments went missing.
   */
  gap(len: number, cut?: boolean): void;
}

/** A packet time that stays valid: for a consumer that keeps the (transient) `t` of a segment. */
export function copyTime(t: PacketTime): PacketTime {
  return { ts: t.ts, tsSec: t.tsSec, tsNsec: t.tsNsec, tsDigits: t.tsDigits };
}

const MAX_PENDING_SEGMENTS = 32;
const MAX_PENDING_BYTES = 256 * 1024;

interface Pending { seq: number; data: Buffer; t: PacketTime }

export class TcpStream {
  private next = 0;
  /** the stream has seen its first segment */
  started = false;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  gaps = 0;
  gapBytes = 0;

  constructor(readonly consumer: StreamConsumer) {}

  /** The SYN's sequence number: data starts at seq + 1. */
  syn(seq: number): void {
    if (!this.started) { this.next = (seq + 1) >>> 0; this.started = true; }
  }

  /**
   * @param wire the segment's payload length on the wire; when the snap length
   *             cut the capture short, the missing bytes are reported as a gap
   */
  segment(seq: number, buf: Buffer, off: number, len: number, t: PacketTime, wire = len): void {
    // The first segment seen starts the stream, also when the snap length cut it.
    if (!this.started && wire > 0) { this.next = seq; this.started = true; }
    if (wire > len && len >= 0 && ((seq - this.next) | 0) === 0) {
      if (len > 0) this.deliver(buf, off, len, t);
      this.gaps++;
      this.gapBytes += wire - len;
      this.next = (this.next + wire - len) >>> 0;
      this.consumer.gap(wire - len, true);
      this.drain();
      return;
    }
    if (len <= 0) return;
    if (!this.started) { this.next = seq; this.started = true; }
    const rel = (seq - this.next) | 0;
    if (rel < 0) {
      // Old bytes (retransmission or overlap): keep only what is new.
      if (-rel >= len) return;
      off -= rel; len += rel; seq = this.next;
    } else if (rel > 0) {
      this.hold(seq, buf, off, len, t);
      return;
    }
    this.deliver(buf, off, len, t);
    this.drain();
  }

  /** End of flow: whatever is held after a hole is delivered after a gap. */
  finish(): void {
    while (this.pending.length > 0) this.skipToPending();
  }

  private deliver(buf: Buffer, off: number, len: number, t: PacketTime): void {
    this.next = (this.next + len) >>> 0;
    this.consumer.data(buf, off, len, t);
  }

  private hold(seq: number, buf: Buffer, off: number, len: number, t: PacketTime): void {
    if (this.pending.length >= MAX_PENDING_SEGMENTS || this.pendingBytes + len > MAX_PENDING_BYTES) {
      this.skipToPending();
      // After the skip the new segment may fit in order or in the queue.
      this.segment(seq, buf, off, len, t);
      return;
    }
    const p: Pending = { seq, data: Buffer.from(buf.subarray(off, off + len)), t: copyTime(t) };
    let i = this.pending.length;
    while (i > 0 && ((this.pending[i - 1]!.seq - seq) | 0) > 0) i--;
    this.pending.splice(i, 0, p);
    this.pendingBytes += len;
  }

  private drain(): void {
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const rel = (p.seq - this.next) | 0;
      if (rel > 0) return;
      this.pending.shift();
      this.pendingBytes -= p.data.length;
      if (-rel < p.data.length) this.deliver(p.data, -rel, p.data.length + rel, p.t);
    }
  }

  private skipToPending(): void {
    const p = this.pending[0];
    if (!p) return;
    const missing = (p.seq - this.next) | 0;
    if (missing > 0) {
      this.gaps++;
      this.gapBytes += missing;
      this.consumer.gap(missing);
      this.next = p.seq;
    }
    this.drain();
  }
}
