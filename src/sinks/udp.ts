/**
 * Syslog over UDP (RFC 5426): one message per datagram, best effort.
 *
 * With a spool (optional) the sender also survives a receiver that is
 * down, as far as UDP lets us see it: on a connected UDP socket an ICMP
 * port/host unreachable shows up as an 'error' event (ECONNREFUSED …).
 * From then on messages go to the spool; a retry timer with backoff resends
 * the spool in batches and acknowledges a batch only after a quiet period
 * (`quietMs`) with no ICMP error, so a batch sent into a still-dead port
 * stays spooled. Datagrams sent between the receiver's death and the first
 * ICMP error are lost, and a firewalled / remote receiver that sends no ICMP
 * looks always up: UDP gives no delivery guarantee; use tcp:// for that.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';
import type { SpoolFile } from './spool-file.js';

const DOWN_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ENOTCONN']);

export interface UdpSenderOptions {
  name: string;
  host: string;
  port: number;
  spool?: SpoolFile;
  logger?: SinkLogger;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** a spooled batch counts as delivered after this long without an ICMP error (default 100 ms) */
  quietMs?: number;
  /** datagrams per spooled batch (default 64) */
  batchRecords?: number;
}

export class UdpSender {
  private readonly o: UdpSenderOptions;
  private readonly log: SinkLogger;
  private sock: dgram.Socket;
  private ready = false;
  private down = false;
  private errorSeen = 0;
  private pendingCb = 0;
  private held: string[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private delay: number;
  private draining = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  private lastDropLog = 0;
  private readonly c = { written: 0, delivered: 0, spooled: 0, dropped: 0, errors: 0, icmp_errors: 0 };

  constructor(opts: UdpSenderOptions) {
    this.o = opts;
    this.log = opts.logger ?? nullLogger;
    this.delay = opts.retryInitialMs ?? 250;
    this.sock = this.open();
  }

  /** a connected UDP socket; a failed connect (e.g. DNS) is retried with backoff */
  private open(): dgram.Socket {
    const family = net.isIPv6(this.o.host) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket(family);
    let connected = false;
    const failed = (err: NodeJS.ErrnoException) => {
      // connect failed (DNS …): what was held goes to the spool (or is dropped), retry later
      this.c.errors++;
      this.log('error', `syslog ${this.o.name}: cannot connect UDP socket, retrying`, { err: err.message });
      const held = this.held;
      this.held = [];
      this.down = true;
      for (const m of held) this.route(m, true);
      this.wakeIfIdle();
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      const t = setTimeout(() => {
        if (!this.closed) this.sock = this.open();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, this.o.retryMaxMs ?? 30_000);
      t.unref();
    };
    sock.on('error', (err: NodeJS.ErrnoException) => (connected ? this.onError(err) : failed(err)));
    // Node reports a failed connect (e.g. ENOTFOUND) to this callback, not as an 'error' event
    sock.connect(this.o.port, this.o.host, (err?: Error) => {
      if (err) return failed(err as NodeJS.ErrnoException);
      connected = true;
      this.ready = true;
      this.down = false;
      this.delay = this.o.retryInitialMs ?? 250;
      const held = this.held;
      this.held = [];
      for (const m of held) this.route(m);
      if (this.o.spool && !this.o.spool.isEmpty) this.scheduleRetry();
    });
    sock.unref();
    return sock;
  }

  send(msg: string): void {
    this.c.written++;
    if (this.closed) {
      this.drop(1, 'sender closed');
      return;
    }
    if (!this.ready) {
      if (this.down) this.route(msg, true); // connect failed: spool or drop until it works
      else this.held.push(msg); // connect() resolves the address; a few ms at startup
      return;
    }
    this.route(msg);
  }

  flush(): Promise<void> {
    if (this.pendingCb === 0 && this.held.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.o.spool?.rewind();
    this.o.spool?.close();
    await new Promise<void>((r) => {
      try {
        this.sock.close(() => r());
      } catch {
        r();
      }
    });
  }

  stats(): Record<string, number> {
    return {
      ...this.c,
      down: this.down ? 1 : 0,
      spool_pending: this.o.spool?.pendingRecords ?? 0,
      spool_bytes: this.o.spool?.pendingBytes ?? 0,
      spool_write_errors: this.o.spool?.writeErrors ?? 0,
    };
  }

  private route(msg: string, unconnected = false): void {
    const spool = this.o.spool;
    if (unconnected && !spool) {
      this.drop(1, 'socket not connected');
      return;
    }
    if (spool && (unconnected || this.down || !spool.isEmpty)) {
      if (spool.append(msg)) this.c.spooled++;
      else this.drop(1, spool.failReason);
      this.scheduleRetry();
      return;
    }
    this.pendingCb++;
    this.sock.send(Buffer.from(msg), (err) => {
      this.pendingCb--;
      if (err) {
        this.c.errors++;
        this.drop(1, `send failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      } else this.c.delivered++;
      this.wakeIfIdle();
    });
  }

  private onError(err: NodeJS.ErrnoException): void {
    this.c.icmp_errors++;
    this.errorSeen++;
    if (!this.o.spool || !DOWN_CODES.has(err.code ?? '')) {
      this.c.errors++;
      return;
    }
    if (!this.down) {
      this.down = true;
      this.log('warn', `syslog ${this.o.name}: receiver unreachable (${err.code}), spooling alerts`, {
        spool: this.o.spool.path,
      });
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.draining || this.closed) return;
    const wait = this.down ? this.delay : 0;
    if (this.down) this.delay = Math.min(this.delay * 2, this.o.retryMaxMs ?? 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.drainSpool();
    }, wait);
    this.retryTimer.unref();
  }

  private async drainSpool(): Promise<void> {
    const spool = this.o.spool;
    if (!spool || this.draining || this.closed) return;
    this.draining = true;
    try {
      while (!this.closed && spool.hasUnsent) {
        const before = this.errorSeen;
        const batch = spool.take(64 * 1024, this.o.batchRecords ?? 64);
        if (!batch) break;
        const { msgs, end } = batch;
        const sent = await Promise.all(
          msgs.map(
            (m) => new Promise<boolean>((r) => this.sock.send(Buffer.from(m), (err) => r(!err))),
          ),
        );
        await new Promise((r) => setTimeout(r, this.o.quietMs ?? 100));
        if (this.errorSeen !== before || sent.includes(false)) {
          spool.rewind();
          this.down = true;
          break;
        }
        spool.ack(end, msgs.length);
        this.c.delivered += msgs.length;
        if (this.down) {
          this.down = false;
          this.delay = this.o.retryInitialMs ?? 250;
          this.log('info', `syslog ${this.o.name}: receiver reachable again, delivering spooled alerts`, {
            spool_pending: spool.pendingRecords,
          });
        }
      }
    } finally {
      this.draining = false;
    }
    if (!this.closed && !spool.isEmpty) this.scheduleRetry();
    this.wakeIfIdle();
  }

  private drop(n: number, why: string): void {
    this.c.dropped += n;
    const now = Date.now(); // only to rate-limit our own log line
    if (this.lastDropLog === 0 || now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      this.log('error', `syslog ${this.o.name}: DROPPING ALERTS (${why})`, { dropped_total: this.c.dropped });
    }
  }

  private wakeIfIdle(): void {
    if (this.pendingCb !== 0 || this.held.length !== 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
