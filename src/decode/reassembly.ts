/**
 * Bounded IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200 §4.5).
 *
 * A fragmented datagram's transport header and payload are only whole once
 * every fragment is in, so a DNS answer split over fragments (amplification,
 * DNSSEC) is decoded from the frame that completes it, as tshark and Zeek do.
 *
 * Fragments are the one place decode copies packet bytes: each fragment's
 * payload is copied until its datagram completes or is dropped. Everything is
 * bounded: datagrams pending, bytes held, fragments per datagram, datagram
 * size (65535), and age (packet time). A datagram that hits a bound, or that
 * a fragment would push past 65535 bytes, is dropped and counted.
 * Overlapping fragments are accepted; where they overlap, the later one wins.
 */

export interface ReassemblyLimits {
  /** datagrams being reassembled at once */
  maxDatagrams: number;
  /** fragment bytes held over all datagrams */
  maxBytes: number;
  /** fragments kept per datagram */
  maxFragments: number;
  /** seconds of packet time a datagram may wait for its missing fragments (Linux ipfrag_time: 30) */
  timeout: number;
}

export const REASSEMBLY_DEFAULTS: ReassemblyLimits = {
  maxDatagrams: 4096,
  maxBytes: 16 * 1024 * 1024,
  maxFragments: 128,
  timeout: 30,
};

/** Largest reassembled payload: the IPv4 total length field, and IPv6 without jumbograms. */
const MAX_DATAGRAM = 65535;

interface Fragment { off: number; data: Buffer }

interface Datagram {
  first: number;
  /** payload length once the last fragment (no more-fragments flag) is in, else -1 */
  total: number;
  bytes: number;
  frags: Fragment[];
}

export interface ReassemblyStats {
  /** datagrams put back together */
  completed: number;
  /** datagrams given up after waiting `timeout` for a missing fragment */
  timedOut: number;
  /** datagrams dropped at a bound, oversized or inconsistent */
  dropped: number;
}

export class IpReassembler {
  private readonly pending = new Map<string, Datagram>();
  private bytes = 0;
  readonly stats: ReassemblyStats = { completed: 0, timedOut: 0, dropped: 0 };

  constructor(readonly limits: ReassemblyLimits = REASSEMBLY_DEFAULTS) {}

  get size(): number { return this.pending.size; }

  /**
   * Adds one fragment: `buf[off, off+len)` is its payload, at byte offset
   * `fragOff` of the datagram; `more` is the more-fragments flag. `key` names
   * the datagram (addresses, identification and, for IPv4, protocol).
   * @returns the whole payload when this fragment completes the datagram, else null
   */
  add(key: string, fragOff: number, more: boolean, buf: Buffer, off: number, len: number, now: number): Buffer | null {
    this.expire(now);
    if (fragOff + len > MAX_DATAGRAM || (more && len % 8 !== 0)) {
      // Oversized (ping of death) or a middle fragment of odd length: not a datagram we can build.
      this.drop(key);
      this.stats.dropped++;
      return null;
    }
    let d = this.pending.get(key);
    if (!d) {
      while (this.pending.size >= this.limits.maxDatagrams) this.dropOldest();
      d = { first: now, total: -1, bytes: 0, frags: [] };
      this.pending.set(key, d);
    }
    if (d.frags.length >= this.limits.maxFragments) {
      this.drop(key);
      this.stats.dropped++;
      return null;
    }
    if (!more) {
      const total = fragOff + len;
      if (d.total >= 0 && d.total !== total) { this.drop(key); this.stats.dropped++; return null; }
      d.total = total;
    }
    while (this.bytes + len > this.limits.maxBytes && this.pending.size > 1) {
      const oldest = this.pending.keys().next().value as string;
      if (oldest === key) break;
      this.dropOldest();
    }
    if (this.bytes + len > this.limits.maxBytes) { this.drop(key); this.stats.dropped++; return null; }
    d.frags.push({ off: fragOff, data: Buffer.from(buf.subarray(off, off + len)) });
    d.bytes += len;
    this.bytes += len;
    if (d.total < 0 || !covers(d.frags, d.total)) return null;
    const out = Buffer.allocUnsafe(d.total);
    for (const f of d.frags) {
      const n = Math.min(f.data.length, d.total - f.off);
      if (n > 0) f.data.copy(out, f.off, 0, n);
    }
    this.drop(key);
    this.stats.completed++;
    return out;
  }

  /** Drops datagrams older than the timeout (they are kept in arrival order of their first fragment). */
  expire(now: number): void {
    const limit = now - this.limits.timeout;
    for (const [key, d] of this.pending) {
      if (d.first >= limit) break;
      this.drop(key);
      this.stats.timedOut++;
    }
  }

  private dropOldest(): void {
    const key = this.pending.keys().next().value as string | undefined;
    if (key === undefined) return;
    this.drop(key);
    this.stats.dropped++;
  }

  private drop(key: string): void {
    const d = this.pending.get(key);
    if (!d) return;
    this.bytes -= d.bytes;
    this.pending.delete(key);
  }
}

/** Do the fragments cover [0, total) without a hole? */
function covers(frags: Fragment[], total: number): boolean {
  const sorted = frags.length > 1 ? [...frags].sort((a, b) => a.off - b.off) : frags;
  let reach = 0;
  for (const f of sorted) {
    if (f.off > reach) return false;
    const e = f.off + f.data.length;
    if (e > reach) reach = e;
    if (reach >= total) return true;
  }
  return reach >= total;
}
