/**
 * Sink counters for the daemon's whole life. A SIGHUP replaces every output
 * by a fresh one (files reopened, sockets reconnected), whose counters start
 * at zero; the shutdown summary, the stats line and the metrics must still
 * say how many alerts were dropped since start. MonotonicSink delegates to
 * the real sink and adds the counters of the sink it replaced.
 */
import type { Alert } from '../alerts/types.js';
import type { AlertSink, LogLevel, SinkLogger } from './sink.js';

/** stats that are levels, not counts: never summed across a reload */
export const GAUGE_STATS = new Set(['connected', 'down', 'inflight_bytes', 'spool_pending', 'spool_bytes', 'queued', 'queued_bytes', 'pending']);

export function addCounters(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) if (!GAUGE_STATS.has(k)) into[k] = (into[k] ?? 0) + v;
  return into;
}

export class MonotonicSink implements AlertSink {
  readonly name: string;
  private carried: Record<string, number> = {};

  /** `previous`: the sink of the same name this one replaces (its counters carry over) */
  constructor(readonly inner: AlertSink, previous?: MonotonicSink) {
    this.name = inner.name;
    if (previous) this.carried = previous.counters();
  }
  write(a: Alert): void { this.inner.write(a); }
  flush(): Promise<void> { return this.inner.flush(); }
  close(): Promise<void> { return this.inner.close(); }
  reopen(): Promise<void> { return this.inner.reopen?.() ?? Promise.resolve(); }

  /** counters since the daemon started (gauges left out) */
  counters(): Record<string, number> {
    return addCounters({ ...this.carried }, this.inner.stats());
  }
  stats(): Record<string, number> {
    const cur = this.inner.stats();
    const out = { ...cur };
    for (const [k, v] of Object.entries(this.carried)) out[k] = (GAUGE_STATS.has(k) ? 0 : v) + (cur[k] ?? 0);
    return out;
  }
  /** the replaced sink is closed now: take its final counters (written after the swap) */
  settle(previous: MonotonicSink): void {
    this.carried = previous.counters();
  }
}

/**
 * Rate-limits a logger: the same (level, message) is written at most once
 * per `intervalMs`; the next one written says how many were held back
 * (`repeated`). A full disk under an alert flood is then one error line per
 * interval with a count, not one per alert. Wall clock: it paces our own log,
 * never an analysis result. `flush()` writes the pending counts (shutdown).
 */
export function rateLimitedLogger(log: SinkLogger, intervalMs = 10_000, now: () => number = Date.now): SinkLogger & { flush(): void } {
  const seen = new Map<string, { at: number; held: number; level: LogLevel; msg: string; obj?: Record<string, unknown> }>();
  const f = ((level: LogLevel, msg: string, obj?: Record<string, unknown>) => {
    if (level === 'debug' || level === 'info') { log(level, msg, obj); return; }
    const key = `${level}\u0000${msg}`;
    const t = now();
    const s = seen.get(key);
    if (s && t - s.at < intervalMs) { s.held++; s.obj = obj; return; }
    log(level, msg, s && s.held ? { ...obj, repeated: s.held, repeated_over_s: Math.round((t - s.at) / 1000) } : obj);
    seen.set(key, { at: t, held: 0, level, msg, ...(obj ? { obj } : {}) });
    if (seen.size > 1000) seen.delete(seen.keys().next().value!); // bounded: distinct messages are few
  }) as SinkLogger & { flush(): void };
  f.flush = () => {
    for (const s of seen.values()) if (s.held) { log(s.level, s.msg, { ...s.obj, repeated: s.held }); s.held = 0; }
  };
  return f;
}
