import * as fs from 'node:fs';
import type { Alert } from '../alerts/types.js';
import type { FormatContext } from '../alerts/format/context.js';
import { getFormatter } from '../alerts/format/index.js';
import type { AlertSink, PayloadFormat, SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';
import { StdoutSink } from './stdout.js';

export interface FileSinkOptions {
  /** file to append to; "-" or "stdout" gives a StdoutSink (see createFileSink) */
  path: string;
  /** json (default), ecs or cef — one line per alert */
  format?: PayloadFormat;
  ctx: FormatContext;
  logger?: SinkLogger;
  /** permissions for a newly created file (default 0o640) */
  mode?: number;
  /** lines waiting for the disk beyond this many bytes are dropped (default 16 MiB) */
  maxQueueBytes?: number;
  /** one write call carries at most this many bytes of whole lines (default 1 MiB) */
  maxBatchBytes?: number;
}

/**
 * Appends one formatted line per alert to a file.
 *
 * - The file is opened O_APPEND|O_CREAT; each write call carries only whole
 *   lines (a batch of them), so concurrent appenders and readers never see a
 *   line interleaved with another write.
 * - On open, if the file is non-empty and its last byte is not '\n' (a crash
 *   mid-write by an earlier run), the first write starts with '\n' so the
 *   torn line cannot swallow our first record.
 * - reopen() (SIGHUP after logrotate's rename) waits for the write in
 *   flight, closes and opens the same path again; lines queued meanwhile go
 *   to the new file.
 * - Writes are asynchronous (fs.write on the fd); write() never blocks.
 */
export class FileSink implements AlertSink {
  readonly name: string;
  private readonly path: string;
  private readonly fmt;
  private readonly ctx: FormatContext;
  private readonly log: SinkLogger;
  private readonly mode: number;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private fd: number | null = null;
  private needNewline = false;
  private queue: string[] = [];
  private queueBytes = 0;
  private writing = false;
  private closed = false;
  private reopening: Promise<void> | null = null;
  private waiters: Array<() => void> = [];
  private lastErrorLog = 0;
  private readonly counters = {
    written: 0,
    delivered: 0,
    bytes: 0,
    dropped: 0,
    errors: 0,
    reopens: 0,
    repaired_tail: 0,
  };

  constructor(opts: FileSinkOptions) {
    const format = opts.format ?? 'json';
    this.fmt = getFormatter(format);
    this.path = opts.path;
    this.name = `file:${opts.path}`;
    this.ctx = opts.ctx;
    this.log = opts.logger ?? nullLogger;
    this.mode = opts.mode ?? 0o640;
    this.maxQueue = opts.maxQueueBytes ?? 16 * 1024 * 1024;
    this.maxBatch = opts.maxBatchBytes ?? 1024 * 1024;
    this.open(); // throws on a bad path: configuration errors surface at startup
  }

  write(alert: Alert): void {
    this.counters.written++;
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    const line = this.fmt(alert, this.ctx) + '\n';
    const len = Buffer.byteLength(line);
    if (this.queueBytes + len > this.maxQueue) {
      this.counters.dropped++;
      this.rateLimitedError('file sink: queue full, dropping alert', { queued_bytes: this.queueBytes });
      return;
    }
    this.queue.push(line);
    this.queueBytes += len;
    this.pump();
  }

  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  reopen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.reopening) {
      this.reopening = (async () => {
        await this.waitWriteDone();
        try {
          this.closeFd();
          this.open();
          this.counters.reopens++;
        } catch (err) {
          this.counters.errors++;
          this.log('error', 'file sink: reopen failed; will retry on the next write', {
            path: this.path,
            err: (err as Error).message,
          });
        } finally {
          this.reopening = null;
          this.pump();
        }
      })();
    }
    return this.reopening;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.reopening) await this.reopening;
    await this.flush();
    this.closed = true;
    this.closeFd();
  }

  stats(): Record<string, number> {
    return { ...this.counters, queued: this.queue.length, queued_bytes: this.queueBytes };
  }

  private open(): void {
    const fd = fs.openSync(this.path, 'a+', this.mode);
    try {
      const { size } = fs.fstatSync(fd);
      this.needNewline = false;
      if (size > 0) {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, size - 1);
        if (b[0] !== 0x0a) {
          this.needNewline = true;
          this.counters.repaired_tail++;
        }
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.fd = fd;
  }

  private closeFd(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fs.closeSync(fd);
    } catch (err) {
      this.counters.errors++;
      this.log('warn', 'file sink: close failed', { path: this.path, err: (err as Error).message });
    }
  }

  private idle(): boolean {
    return !this.writing && this.queue.length === 0;
  }

  private waitWriteDone(): Promise<void> {
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.writing ? setImmediate(check) : resolve());
      check();
    });
  }

  private pump(): void {
    if (this.writing || this.reopening || this.queue.length === 0) return;
    if (this.fd === null) {
      // a failed reopen: try again now
      try {
        this.open();
      } catch (err) {
        this.counters.errors++;
        this.counters.dropped += this.queue.length;
        this.rateLimitedError('file sink: cannot open file, dropping queued alerts', {
          path: this.path,
          err: (err as Error).message,
        });
        this.queue = [];
        this.queueBytes = 0;
        this.wake();
        return;
      }
    }
    // take whole lines up to maxBatch bytes (at least one line)
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length) {
      const l = Buffer.byteLength(this.queue[n]!);
      if (n > 0 && bytes + l > this.maxBatch) break;
      bytes += l;
      n++;
    }
    const lines = this.queue.splice(0, n);
    this.queueBytes -= bytes;
    const text = (this.needNewline ? '\n' : '') + lines.join('');
    const buf = Buffer.from(text);
    this.writing = true;
    this.writeAll(this.fd!, buf, 0, (err) => {
      this.writing = false;
      if (err) {
        this.counters.errors++;
        this.counters.dropped += n;
        this.rateLimitedError('file sink: write failed, alerts dropped', {
          path: this.path,
          err: err.message,
          lines: n,
        });
      } else {
        this.needNewline = false;
        this.counters.delivered += n;
        this.counters.bytes += buf.length;
      }
      if (this.queue.length > 0) this.pump();
      else this.wake();
    });
  }

  /** write buf[off..] fully; a short write (ENOSPC edge) continues where it stopped */
  private writeAll(fd: number, buf: Buffer, off: number, done: (err: Error | null) => void): void {
    fs.write(fd, buf, off, buf.length - off, null, (err, written) => {
      if (err) return done(err);
      if (off + written < buf.length) return this.writeAll(fd, buf, off + written, done);
      done(null);
    });
  }

  private wake(): void {
    if (!this.idle()) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private rateLimitedError(msg: string, obj: Record<string, unknown>): void {
    const now = Date.now(); // wall clock only to rate-limit our own log lines
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.log('error', msg, { ...obj, dropped_total: this.counters.dropped });
  }
}

/** "-" or "stdout" → StdoutSink, anything else → FileSink */
export function createFileSink(opts: FileSinkOptions): AlertSink {
  if (opts.path === '-' || opts.path === 'stdout') {
    return new StdoutSink({
      ctx: opts.ctx,
      ...(opts.format !== undefined ? { format: opts.format } : {}),
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    });
  }
  return new FileSink(opts);
}
