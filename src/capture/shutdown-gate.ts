/**
 * Shutdown with a backlog: a flood can leave seconds of captured packets
 * queued between the kernel ring and the pipeline. At SIGTERM the daemon sets
 * a deadline; until then packets are analysed as usual, after it they are only
 * counted ("captured but not analysed at shutdown", in the summary), so the
 * process stops within systemd's stop timeout and never loses a packet
 * silently.
 */
import type { PacketSink, TsDigits } from './types.js';

/** Passes packets to the pipeline; after `deadline` (wall clock, set at shutdown) only counts them. */
export class ShutdownGate implements PacketSink {
  deadline = 0;
  skipped = 0;
  private n = 0;
  private closed = false;
  constructor(private readonly next: PacketSink) {}
  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void {
    if (this.closed) { this.skipped++; return; }
    // Checking the clock every 4096 packets keeps Date.now() off the per-packet path.
    if (this.deadline !== 0 && (++this.n & 4095) === 0 && Date.now() > this.deadline) { this.closed = true; this.skipped++; return; }
    this.next.packet(linktype, tsSec, tsNsec, buf, off, caplen, wirelen, digits);
  }
}
