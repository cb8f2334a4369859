/**
 * Redis Streams output: every alert (and, optionally, every event) becomes
 * one stream entry, `XADD <stream> MAXLEN ~ <maxLen> * sensor S seq N type T
 * body <json>`, the shape Suricata's EVE Redis output and stream shippers
 * (Redpanda Connect `redis_streams`, body_key `body`) read. Many sensors can
 * share one stream; each entry names its sensor.
 *
 * Nothing is lost while Redis is down: entries wait in the same bounded
 * on-disk spool as syslog (spool-file.ts) and go out in order once ioredis
 * has reconnected (it retries forever with backoff; our own offline queue is
 * the spool, so ioredis' in-memory one is off). Only a full spool drops,
 * counted and logged.
 *
 * Exactly once, in order: a batch whose reply was lost (Redis died after
 * executing it) is sent again, so each entry carries a per-sensor sequence
 * number and the XADDs run inside one Lua script that skips entries at or
 * below the last sequence the stream has stored for this sensor
 * (`<stream>:seq:<sensor>`). Sequence numbers are given when an entry is
 * first sent (after reading that key on connect), so they keep growing
 * across restarts without any clock; a batch that failed goes back to the
 * front of the spool with its numbers.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Alert } from '../alerts/types.js';
import type { FormatContext } from '../alerts/format/context.js';
import { getFormatter } from '../alerts/format/index.js';
import type { AlertSink, SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';
import { SpoolFile } from './spool-file.js';

export type RedisTarget = { path: string } | { host: string; port: number; db: number };

/** redis://host[:port][/db] or unix:///path/to/redis.sock */
export function parseRedisUrl(url: string): RedisTarget {
  const u = /^unix:\/\/(\/.+)$/.exec(url.trim());
  if (u) return { path: u[1]! };
  const m = /^redis:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d+))?(?:\/(\d+))?\/?$/.exec(url.trim());
  if (!m) throw new Error(`"${url}": expected redis://host[:port][/db] or unix:///path`);
  const port = m[2] === undefined ? 6379 : Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`"${url}": bad port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, db: Number(m[3] ?? 0) };
}

/** Adds the entries whose sequence is above the stored one; returns how many it added. Sequences are fixed-width strings, compared as strings (Lua numbers would round). */
const XADD_ONCE = `
local last = redis.call('GET', KEYS[2]) or ''
local added = 0
for i = 3, #ARGV, 3 do
  if ARGV[i] > last then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'sensor', ARGV[2], 'seq', ARGV[i], 'type', ARGV[i + 1], 'body', ARGV[i + 2])
    last = ARGV[i]
    added = added + 1
  end
end
redis.call('SET', KEYS[2], last)
return added`;

const SEQ_DIGITS = 16;
const pad = (n: number): string => String(n).padStart(SEQ_DIGITS, '0');

interface Entry { seq: string; type: string; body: string }

export interface RedisStreamOptions {
  url: string;
  stream: string;
  /** sensor name in each entry and in the sequence key */
  sensor: string;
  /** approximate bound on the stream's length (MAXLEN ~) */
  maxLen: number;
  spoolDir: string;
  spoolMaxBytes?: number;
  logger?: SinkLogger;
  /** entries per XADD script call (default 200) */
  batch?: number;
  /** ioredis reconnect backoff cap, ms (default 5000) */
  retryMaxMs?: number;
}

/** One stream: entries in, XADDs out, the spool behind. */
export class RedisStreamSender {
  private readonly redis: Redis;
  private readonly spool: SpoolFile;
  private readonly log: SinkLogger;
  private readonly seqKey: string;
  private queue: Entry[] = [];
  private busy = false;
  private ready = false;
  private next = 1;
  private closed = false;
  private lastDropLog = 0;
  private waiters: Array<() => void> = [];
  private readonly c = { written: 0, delivered: 0, spooled: 0, dropped: 0, duplicates_skipped: 0, connects: 0, errors: 0 };

  constructor(private readonly o: RedisStreamOptions) {
    this.log = o.logger ?? nullLogger;
    this.seqKey = `${o.stream}:seq:${o.sensor}`;
    this.spool = new SpoolFile({
      dir: o.spoolDir, name: 'redis-' + `${o.url}-${o.stream}`.replace(/[^A-Za-z0-9._-]+/g, '_'), logger: this.log,
      ...(o.spoolMaxBytes !== undefined ? { maxBytes: o.spoolMaxBytes } : {}),
    });
    const t = parseRedisUrl(o.url);
    const common: RedisOptions = {
      enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 10), o.retryMaxMs ?? 5000),
    };
    this.redis = new Redis('path' in t ? { ...common, path: t.path } : { ...common, host: t.host, port: t.port, db: t.db });
    this.redis.on('ready', () => { void this.onReady(); });
    this.redis.on('close', () => { this.ready = false; });
    // connection errors are expected while Redis is down; ioredis reconnects, the spool keeps the entries
    this.redis.on('error', (e: Error) => { this.c.errors++; this.log('debug', `redis ${o.url}: ${e.message}`); });
  }

  send(type: string, body: string): void {
    this.c.written++;
    if (this.closed) { this.drop(1, 'output closed'); return; }
    this.queue.push({ seq: '', type, body });
    this.pump();
  }

  stats(): Record<string, number> {
    return { ...this.c, connected: this.ready ? 1 : 0, queued: this.queue.length, spool_pending: this.spool.pendingRecords, spool_bytes: this.spool.pendingBytes, spool_write_errors: this.spool.writeErrors };
  }

  /** resolves when everything sent so far is in Redis or in the spool */
  flush(): Promise<void> {
    if (!this.ready) this.toSpool();
    if (this.settled()) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** delivers what it can within timeoutMs, spools the rest for the next run, disconnects */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    const until = Date.now() + timeoutMs;
    while (this.ready && (this.busy || this.queue.length > 0 || !this.spool.isEmpty) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    while (this.busy && Date.now() < until + 1000) await new Promise((r) => setTimeout(r, 10));
    this.closed = true;
    this.toSpool();
    this.spool.close();
    this.redis.disconnect();
    this.wake();
  }

  private settled(): boolean {
    return !this.busy && this.queue.length === 0 && (!this.ready || this.spool.isEmpty);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async onReady(): Promise<void> {
    try {
      const stored = await this.redis.get(this.seqKey);
      if (stored !== null && Number(stored) >= this.next) this.next = Number(stored) + 1;
    } catch {
      return; // lost again before we could read it: the next 'ready' retries
    }
    this.c.connects++;
    this.ready = true;
    this.log('info', `redis ${this.o.url}: connected`, { stream: this.o.stream, spooled: this.spool.pendingRecords });
    this.pump();
  }

  private toSpool(): void {
    if (this.queue.length === 0) return;
    let dropped = 0;
    for (const e of this.queue) {
      if (this.spool.append(`${e.seq}\t${e.type}\t${e.body}`)) this.c.spooled++;
      else dropped++;
    }
    this.queue = [];
    if (dropped) this.drop(dropped, this.spool.failReason);
  }

  private drop(n: number, why: string): void {
    this.c.dropped += n;
    const now = Date.now(); // wall clock only to rate-limit our own log line
    if (this.lastDropLog === 0 || now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      this.log('error', `redis ${this.o.url}: DROPPING ALERTS (${why})`, { dropped_total: this.c.dropped, spool: this.spool.path });
    }
  }

  private pump(): void {
    if (this.busy || this.closed) return;
    if (!this.ready) { this.toSpool(); this.wake(); return; }
    let entries: Entry[];
    let fromSpool: { end: number; n: number } | null = null;
    if (this.spool.hasUnsent) {
      // the spool first, so order is kept; new entries wait behind it in memory
      const b = this.spool.take(256 * 1024, this.o.batch ?? 200);
      if (!b) return;
      entries = b.msgs.map((m) => {
        const i = m.indexOf('\t'), j = m.indexOf('\t', i + 1);
        return { seq: m.slice(0, i), type: m.slice(i + 1, j), body: m.slice(j + 1) };
      });
      fromSpool = { end: b.end, n: b.msgs.length };
    } else if (this.queue.length > 0) {
      entries = this.queue.splice(0, this.o.batch ?? 200);
    } else {
      this.wake();
      return;
    }
    for (const e of entries) if (e.seq === '') e.seq = pad(this.next++);
    const args: string[] = [String(this.o.maxLen), this.o.sensor];
    for (const e of entries) args.push(e.seq, e.type, e.body);
    this.busy = true;
    this.redis.eval(XADD_ONCE, 2, this.o.stream, this.seqKey, ...args).then(
      (added) => {
        this.busy = false;
        this.c.delivered += entries.length;
        this.c.duplicates_skipped += entries.length - Number(added);
        if (fromSpool) this.spool.ack(fromSpool.end, fromSpool.n);
        this.pump();
      },
      (err: Error) => {
        this.busy = false;
        this.c.errors++;
        this.log('warn', `redis ${this.o.url}: XADD failed, keeping the entries in the spool`, { err: err.message });
        // Redis may have run the script and lost only the reply: the entries go back to the
        // front of the spool WITH their numbers, so a resend is skipped if they got in.
        if (fromSpool) this.spool.ack(fromSpool.end, fromSpool.n);
        try {
          this.spool.prepend(entries.map((e) => `${e.seq}\t${e.type}\t${e.body}`));
          if (!fromSpool) this.c.spooled += entries.length;
        } catch (e) {
          // rewriting the spool failed (disk full): these entries are lost, counted
          this.drop(entries.length, `spool write failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        if (this.ready) setTimeout(() => this.pump(), 200).unref();
        else this.pump();
      },
    );
  }
}

export interface RedisSinkOptions {
  url: string;
  stream: string;
  maxLen: number;
  format: 'json' | 'ecs';
  ctx: FormatContext;
  /** also events, to this stream */
  eventsStream?: string;
  spoolDir?: string;
  spoolMaxBytes?: number;
  logger?: SinkLogger;
  retryMaxMs?: number;
}

/** Alerts (and optionally events) to Redis streams. */
export class RedisSink implements AlertSink {
  readonly name: string;
  readonly sender: RedisStreamSender;
  /** the events stream's sender, when events are asked for */
  readonly events: RedisStreamSender | null;
  private readonly fmt;
  private readonly ctx: FormatContext;

  constructor(o: RedisSinkOptions) {
    this.name = `redis:${o.url}/${o.stream}`;
    this.fmt = getFormatter(o.format);
    this.ctx = o.ctx;
    const common = {
      url: o.url, sensor: sensorId(o.ctx), maxLen: o.maxLen, spoolDir: o.spoolDir || defaultSpoolDir(),
      ...(o.spoolMaxBytes !== undefined ? { spoolMaxBytes: o.spoolMaxBytes } : {}),
      ...(o.logger ? { logger: o.logger } : {}), ...(o.retryMaxMs !== undefined ? { retryMaxMs: o.retryMaxMs } : {}),
    };
    this.sender = new RedisStreamSender({ ...common, stream: o.stream });
    this.events = o.eventsStream ? new RedisStreamSender({ ...common, stream: o.eventsStream }) : null;
  }

  write(alert: Alert): void {
    this.sender.send('alert', this.fmt(alert, this.ctx));
  }

  /** one event-log line (events/serialize.ts) of the given type */
  writeEvent(type: string, line: string): void {
    this.events?.send(type, line);
  }

  async flush(): Promise<void> { await Promise.all([this.sender.flush(), this.events?.flush()]); }
  async close(): Promise<void> { await Promise.all([this.sender.close(), this.events?.close()]); }
  stats(): Record<string, number> {
    const s = this.sender.stats();
    if (!this.events) return s;
    for (const [k, v] of Object.entries(this.events.stats())) s[`events_${k}`] = v;
    return s;
  }
}

/** host/interface: unique per sensor in a fleet, stable across restarts */
export function sensorId(ctx: FormatContext): string {
  return `${ctx.hostname}/${ctx.sensor}`;
}

function defaultSpoolDir(): string {
  const state = process.env.STATE_DIRECTORY?.split(':')[0];
  return state ? path.join(state, 'spool') : path.join(os.tmpdir(), 'tapwatch-spool');
}
