/**
 * Reliable-as-TCP-allows delivery of single-line messages over a stream
 * socket (tcp:// or unix-stream://), with a bounded on-disk spool for when
 * the server is down or slow.
 *
 * Flow
 * - send() queues; one setImmediate later the queue is written as ONE chunk
 *   when the socket is up, the spool is empty and less than maxInflightBytes
 *   is unconfirmed; otherwise the messages are appended to the spool
 *   (counter `spooled`), or dropped when the spool is full (`dropped`, with a
 *   loud error log line, rate limited to one per 10 s plus the first).
 *   Deferring to setImmediate lets a peer's FIN/RST processed in the same
 *   loop turn mark the socket down before we write into a dead connection.
 * - A message counts as `delivered` only in its socket write callback (the
 *   kernel accepted it). Once connected, the spool drains in order from the
 *   first unacknowledged record; new messages keep going to the spool until
 *   it is empty, so order is preserved; then the spool file is truncated.
 * - Connection loss: the socket is destroyed, unconfirmed in-memory messages
 *   are put back in FRONT of the spool, the read cursor rewinds to the first
 *   unacknowledged record, and a retry timer reconnects with exponential
 *   backoff (retryInitialMs doubling to retryMaxMs, ±10% jitter, forever;
 *   the spool bounds what is kept meanwhile).
 *
 * Delivery guarantee: exactly-once in order while the server behaves, with
 * two documented edges that plain syslog-over-TCP cannot close (RELP can):
 * - at-least-once: a server that dies mid-write may have read part or all of
 *   a chunk whose callback then fails; we resend the whole chunk, so the
 *   server can see a torn frame followed by a duplicate.
 * - at-most-once: a write the kernel accepted (callback OK) after the server
 *   stopped reading but before its FIN/RST reached us is lost; the write
 *   callback cannot tell (no application-level acknowledgement in syslog).
 *   Measured against rsyslogd killed with SIGTERM while we write every 2 ms:
 *   the 1–2 messages written in the few ms between the signal and rsyslog
 *   closing its sessions are lost. `resendWindowMs` (default 0 = off) trades
 *   that loss for duplicates: after an unexpected disconnect, messages
 *   confirmed within that many ms are sent again (before everything still
 *   undelivered, so order is kept modulo the repeated tail).
 */
import type * as net from 'node:net';
import type { SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';
import { SpoolFile } from './spool-file.js';

export { SpoolFile, DEFAULT_SPOOL_MAX_BYTES } from './spool-file.js';
export type { SpoolFileOptions, SpoolBatch } from './spool-file.js';

export interface SpoolingSenderOptions {
  /** label for logs, e.g. "tcp://10.0.0.5:514" */
  name: string;
  /** open a new connection (net.createConnection(...)) */
  connect: () => net.Socket;
  /** wire framing of one message, e.g. octet counting "LEN SP MSG" */
  frame: (msg: string) => string;
  spool: SpoolFile;
  logger?: SinkLogger;
  /** first retry delay (default 250 ms), doubled up to retryMaxMs (default 30 s) */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** give up a connect attempt after this long (default 5 s) */
  connectTimeoutMs?: number;
  /** unconfirmed bytes allowed on the socket before new messages go to the spool (default 1 MiB) */
  maxInflightBytes?: number;
  /** bytes per write when draining the spool (default 64 KiB) */
  batchBytes?: number;
  /**
   * after an unexpected disconnect, resend messages whose write was
   * confirmed within this many ms (at-least-once instead of at-most-once for
   * the kernel-accepted-but-never-read edge); default 0 = off
   */
  resendWindowMs?: number;
}

type Inflight =
  | { kind: 'mem'; msgs: string[]; bytes: number }
  | { kind: 'spool'; end: number; n: number; bytes: number; msgs: string[] };

export class SpoolingStreamSender {
  private readonly o: Required<Omit<SpoolingSenderOptions, 'logger'>> & { logger: SinkLogger };
  private sock: net.Socket | null = null;
  private connected = false;
  /** first attempt in progress: hold messages in memory instead of spooling them */
  private firstAttempt = true;
  private gen = 0;
  private outbox: string[] = [];
  private outboxBytes = 0;
  private scheduled = false;
  private inflight: Inflight[] = [];
  private inflightBytes = 0;
  /** confirmed chunks kept for resendWindowMs: [confirm time (ms, monotonic), messages, bytes] */
  private recent: Array<{ t: number; msgs: string[]; bytes: number }> = [];
  private recentBytes = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private delay: number;
  private closing = false;
  private closed = false;
  private down = false;
  private downSince = 0;
  private lastDropLog = 0;
  private waiters: Array<() => void> = [];
  private readonly c = {
    written: 0,
    delivered: 0,
    spooled: 0,
    dropped: 0,
    resent: 0,
    connects: 0,
    disconnects: 0,
    connect_failures: 0,
    late_confirms: 0,
    resent_window: 0,
  };

  constructor(opts: SpoolingSenderOptions) {
    this.o = {
      retryInitialMs: 250,
      retryMaxMs: 30_000,
      connectTimeoutMs: 5_000,
      maxInflightBytes: 1024 * 1024,
      batchBytes: 64 * 1024,
      resendWindowMs: 0,
      logger: nullLogger,
      ...stripUndefined(opts),
    } as SpoolingStreamSender['o'];
    this.delay = this.o.retryInitialMs;
    this.connect();
  }

  send(msg: string): void {
    this.c.written++;
    if (this.closed) {
      this.drop(1, 'sender closed');
      return;
    }
    this.outbox.push(msg);
    this.outboxBytes += msg.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  /** resolves when every message sent so far is delivered or in the spool file */
  flush(): Promise<void> {
    this.pump();
    if (this.settled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** resolves when the spool is empty and nothing is in flight, or after timeoutMs (false) */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      this.pump();
      if (this.outbox.length === 0 && this.inflight.length === 0 && this.o.spool.isEmpty) return true;
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** drop the connection now and reconnect (SIGHUP) */
  reconnect(): void {
    if (this.closed) return;
    if (this.sock) this.onDown('reconnect requested', false);
    this.clearRetry();
    this.connect();
  }

  /**
   * Deliver what can be delivered within timeoutMs (only over the current
   * connection; no reconnect), put everything unconfirmed back in the spool
   * for the next run, and close socket and spool.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.clearRetry();
    if (this.connected) await this.drained(timeoutMs);
    this.pump();
    this.closed = true;
    const sock = this.sock;
    if (sock && this.connected && this.inflight.length === 0) {
      this.sock = null;
      this.connected = false;
      this.gen++;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          sock.destroy();
          resolve();
        }, 1_000);
        sock.end(() => {
          clearTimeout(t);
          resolve();
        });
      });
      sock.destroy();
    } else if (sock) {
      this.onDown('closing', false);
    }
    this.recoverInflight();
    this.clearRetry();
    this.o.spool.close();
    this.wake();
  }

  stats(): Record<string, number> {
    return {
      ...this.c,
      connected: this.connected ? 1 : 0,
      inflight_bytes: this.inflightBytes,
      spool_pending: this.o.spool.pendingRecords,
      spool_bytes: this.o.spool.pendingBytes,
      spool_write_errors: this.o.spool.writeErrors,
    };
  }

  // ---- internals ---------------------------------------------------------

  private pump(): void {
    if (this.outbox.length > 0) {
      const msgs = this.outbox;
      const held = this.outboxBytes;
      this.outbox = [];
      this.outboxBytes = 0;
      const direct =
        this.connected && this.o.spool.isEmpty && this.inflightBytes < this.o.maxInflightBytes && !this.closed;
      if (direct) {
        this.writeChunk({ kind: 'mem', msgs, bytes: 0 }, msgs);
      } else if (this.firstAttempt && !this.closed && this.o.spool.isEmpty && held < this.o.maxInflightBytes) {
        // still connecting the first time: keep them in memory a moment
        this.outbox = msgs;
        this.outboxBytes = held;
      } else {
        this.toSpool(msgs);
      }
    }
    if (this.connected && !this.closed) this.drain();
    if (this.settled()) this.wake();
  }

  private toSpool(msgs: string[]): void {
    let dropped = 0;
    for (const m of msgs) {
      // append() never throws; a full disk is a false like a full spool
      if (this.o.spool.append(m)) this.c.spooled++;
      else dropped++;
    }
    // one (rate-limited) line for the lot, saying why: the bound, or the disk
    if (dropped > 0) this.drop(dropped, this.o.spool.failReason);
  }

  private drop(n: number, why: string): void {
    this.c.dropped += n;
    const now = Date.now(); // wall clock: only to rate-limit our own log line
    if (this.lastDropLog === 0 || now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      this.o.logger('error', `syslog ${this.o.name}: DROPPING ALERTS (${why})`, {
        dropped_total: this.c.dropped,
        spool: this.o.spool.path,
        spool_bytes: this.o.spool.pendingBytes,
      });
    }
  }

  /** hand spooled records to the socket while the in-flight budget allows */
  private drain(): void {
    while (this.connected && this.o.spool.hasUnsent && this.inflightBytes < this.o.maxInflightBytes) {
      let batch;
      try {
        batch = this.o.spool.take(this.o.batchBytes);
      } catch (err) {
        this.o.logger('error', 'spool: read failed', { spool: this.o.spool.path, err: (err as Error).message });
        return;
      }
      if (!batch) return;
      this.writeChunk({ kind: 'spool', end: batch.end, n: batch.msgs.length, bytes: 0, msgs: batch.msgs }, batch.msgs);
    }
  }

  private writeChunk(entry: Inflight, msgs: string[]): void {
    const sock = this.sock!;
    const gen = this.gen;
    const data = Buffer.from(msgs.map(this.o.frame).join(''));
    entry.bytes = data.length;
    this.inflight.push(entry);
    this.inflightBytes += data.length;
    sock.write(data, (err) => {
      const i = this.inflight.indexOf(entry);
      if (i < 0) {
        // recovered (re-spooled) already: a late success means a duplicate will follow
        if (!err) this.c.late_confirms++;
        return;
      }
      if (err || gen !== this.gen) return; // onDown → recoverInflight handles it
      this.inflight.splice(i, 1);
      this.inflightBytes -= entry.bytes;
      if (entry.kind === 'mem') this.c.delivered += entry.msgs.length;
      else {
        this.c.delivered += entry.n;
        this.o.spool.ack(entry.end, entry.n);
      }
      this.delay = this.o.retryInitialMs; // a confirmed write: the server is healthy
      if (this.o.resendWindowMs > 0) this.remember(entry.msgs, entry.bytes);
      if (!this.closed) this.pump();
      else if (this.settled()) this.wake();
    });
  }

  private connect(): void {
    if (this.closed || this.closing || this.sock) return;
    const gen = ++this.gen;
    let sock: net.Socket;
    try {
      sock = this.o.connect();
    } catch (err) {
      this.connectFailed(String((err as Error).message));
      return;
    }
    this.sock = sock;
    sock.setNoDelay?.(true);
    this.connectTimer = setTimeout(() => {
      if (gen === this.gen && !this.connected) this.onDown('connect timeout', true);
    }, this.o.connectTimeoutMs);
    this.connectTimer.unref();
    sock.on('connect', () => {
      if (gen !== this.gen) return;
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = null;
      sock.setKeepAlive?.(true, 10_000);
      this.connected = true;
      this.firstAttempt = false;
      this.c.connects++;
      if (this.down) {
        this.o.logger('info', `syslog ${this.o.name}: reconnected, delivering spooled alerts`, {
          spooled_pending: this.o.spool.pendingRecords,
          down_for_ms: Date.now() - this.downSince,
        });
        this.down = false;
      }
      this.pump();
    });
    sock.on('data', () => {}); // syslog servers do not talk back; keep the stream flowing
    sock.on('end', () => gen === this.gen && this.onDown('server closed the connection', true));
    sock.on('error', (err: Error) => gen === this.gen && this.onDown(err.message, true));
    sock.on('close', () => gen === this.gen && this.onDown('connection closed', true));
  }

  private connectFailed(reason: string): void {
    this.c.connect_failures++;
    this.markDown(reason);
    this.scheduleRetry();
  }

  private onDown(reason: string, retry: boolean): void {
    const sock = this.sock;
    const wasConnected = this.connected;
    this.sock = null;
    this.connected = false;
    this.gen++;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    sock?.destroy();
    if (wasConnected) this.c.disconnects++;
    else this.c.connect_failures++;
    this.firstAttempt = false;
    this.recoverInflight(retry && wasConnected ? this.takeRecent() : []);
    if (retry && !this.closed && !this.closing) {
      this.markDown(reason);
      this.scheduleRetry();
    }
    this.pump(); // messages held during the first attempt go to the spool now
  }

  /** keep a confirmed chunk for resendWindowMs (bounded by maxInflightBytes) */
  private remember(msgs: string[], bytes: number): void {
    const now = performance.now();
    this.recent.push({ t: now, msgs, bytes });
    this.recentBytes += bytes;
    while (
      this.recent.length > 0 &&
      (now - this.recent[0]!.t > this.o.resendWindowMs || this.recentBytes > this.o.maxInflightBytes)
    ) {
      this.recentBytes -= this.recent.shift()!.bytes;
    }
  }

  /** messages confirmed within resendWindowMs, oldest first; clears the list */
  private takeRecent(): string[] {
    const since = performance.now() - this.o.resendWindowMs;
    const out: string[] = [];
    for (const r of this.recent) if (r.t >= since) out.push(...r.msgs);
    this.recent = [];
    this.recentBytes = 0;
    this.c.resent_window += out.length;
    return out;
  }

  /**
   * unconfirmed in-memory chunks (preceded by `again`, recently confirmed
   * messages to resend) back in front of the spool, cursor back to the last ack
   */
  private recoverInflight(again: string[] = []): void {
    if (this.inflight.length === 0 && again.length === 0) {
      this.o.spool.rewind();
      return;
    }
    const mem: string[] = [...again];
    for (const e of this.inflight) {
      if (e.kind === 'mem') mem.push(...e.msgs);
      else this.c.resent += e.n;
    }
    this.inflight = [];
    this.inflightBytes = 0;
    try {
      this.o.spool.prepend(mem);
      this.c.spooled += mem.length;
      this.c.resent += mem.length;
    } catch (err) {
      this.drop(mem.length, 'spool write failed: ' + (err as Error).message);
    }
  }

  private markDown(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.downSince = Date.now();
    this.o.logger('warn', `syslog ${this.o.name}: target unavailable, spooling alerts`, {
      reason,
      spool: this.o.spool.path,
    });
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed || this.closing) return;
    const jitter = 1 + (Math.random() * 0.2 - 0.1);
    const wait = Math.round(this.delay * jitter);
    this.delay = Math.min(this.delay * 2, this.o.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, wait);
    this.retryTimer.unref();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private settled(): boolean {
    return this.outbox.length === 0 && !this.inflight.some((e) => e.kind === 'mem');
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
