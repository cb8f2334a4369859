import type { Alert } from '../alerts/types.js';
import type { FormatContext } from '../alerts/format/context.js';
import { getFormatter } from '../alerts/format/index.js';
import type { AlertSink, SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';

export interface StdoutSinkOptions {
  /** json (default), ecs, cef or text */
  format?: 'json' | 'ecs' | 'cef' | 'text';
  ctx: FormatContext;
  /** defaults to process.stdout; never ended by close() (the caller owns it) */
  stream?: NodeJS.WritableStream & { writableLength?: number };
  logger?: SinkLogger;
  /** lines buffered in the stream beyond this many bytes are dropped (default 16 MiB) */
  maxBufferedBytes?: number;
}

/** One formatted line per alert on stdout (or any writable stream). */
export class StdoutSink implements AlertSink {
  readonly name: string;
  private readonly stream: NodeJS.WritableStream & { writableLength?: number };
  private readonly fmt;
  private readonly ctx: FormatContext;
  private readonly log: SinkLogger;
  private readonly maxBuffered: number;
  private pending = 0;
  private waiters: Array<() => void> = [];
  private broken = false;
  private closed = false;
  private readonly counters = { written: 0, delivered: 0, bytes: 0, dropped: 0, errors: 0 };

  constructor(opts: StdoutSinkOptions) {
    const format = opts.format ?? 'json';
    this.fmt = getFormatter(format);
    this.name = `stdout:${format}`;
    this.ctx = opts.ctx;
    this.stream = opts.stream ?? process.stdout;
    this.log = opts.logger ?? nullLogger;
    this.maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.stream.on('error', (err: Error) => {
      // EPIPE (reader went away) and friends: stop writing, keep counting
      if (!this.broken) this.log('error', 'stdout sink: stream error, dropping further alerts', { err: err.message });
      this.broken = true;
      this.counters.errors++;
    });
  }

  write(alert: Alert): void {
    this.counters.written++;
    if (this.closed || this.broken || (this.stream.writableLength ?? 0) > this.maxBuffered) {
      this.counters.dropped++;
      return;
    }
    const line = this.fmt(alert, this.ctx) + '\n';
    this.pending++;
    this.counters.bytes += Buffer.byteLength(line);
    this.stream.write(line, (err?: Error | null) => {
      this.pending--;
      if (err) {
        this.counters.errors++;
        this.counters.dropped++;
      } else this.counters.delivered++;
      if (this.pending === 0) this.wake();
    });
  }

  flush(): Promise<void> {
    if (this.pending === 0 || this.broken) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }

  stats(): Record<string, number> {
    return { ...this.counters, pending: this.pending };
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
