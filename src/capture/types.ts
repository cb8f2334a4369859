/**
 * The contract between capture (offline reader or live libpcap) and decode.
 *
 * A source hands packets to a PacketSink one at a time *without* allocating an
 * object per packet: the bytes are a view (buf, off, caplen) into a chunk the
 * source owns and may reuse as soon as `packet()` returns. Anything a later
 * stage wants to keep must be copied out (decoders only copy what becomes an
 * event).
 */
export interface PacketSink {
  /**
   * @param linktype LINKTYPE_* value of the interface the packet came from
   * @param tsSec    whole seconds since the epoch (packet time, never wall clock)
   * @param tsNsec   nanoseconds within the second, 0..999_999_999
   * @param buf      chunk holding the packet; valid only during the call
   * @param off      offset of the first captured byte in buf
   * @param caplen   bytes captured (may be less than wirelen: snap length)
   * @param wirelen  bytes on the wire
   * @param digits   timestamp precision of this packet's source (6 = µs, 9 = ns); a live
   *                 capture may omit it and let the sink use the capture's precision
   */
  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void;
}

/** Timestamp precision of a source, in decimal digits after the second (6 = µs, 9 = ns). */
export type TsDigits = 6 | 9;

export interface ReadResult {
  packets: number;
  bytes: number;
  /** Set when reading stopped early: truncated record, corrupt length, I/O error. */
  warning?: string;
}

/** LINKTYPE_* numbers (https://www.tcpdump.org/linktypes.html) that decode understands. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
