/**
 * A progress line for `analyze` on a terminal: bytes read (of the total when
 * the inputs are files), packets per second and the time left, redrawn in
 * place on stderr. Only for a TTY and never with --quiet: a pipe or a log
 * file gets no carriage-return noise.
 *
 * Rates use the wall clock: they describe the analysis, not the traffic
 * (packet time stays the only clock of the analysis itself).
 */
import type { ReadProgress } from '../capture/reader.js';

export interface ProgressState {
  bytes: number;
  /** total input bytes; 0 when unknown (stdin) */
  total: number;
  packets: number;
  /** wall seconds since the start */
  elapsed: number;
}

/** 1536 → "1.5 KiB" */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return u === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[u]}`;
}

/** 3725 → "1h02m05s", 65 → "1m05s", 7 → "7s" */
export function formatDuration(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}h${pad(m)}m${pad(sec)}s` : m > 0 ? `${m}m${pad(sec)}s` : `${sec}s`;
}

/** "412 MiB / 1.2 GiB (34%)  188 k packets/s  ETA 12s"; no ETA before a rate is known or without a total */
export function formatProgress(p: ProgressState): string {
  const rate = p.elapsed > 0 ? p.packets / p.elapsed : 0;
  const pps = rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M` : rate >= 1e3 ? `${Math.round(rate / 1e3)} k` : `${Math.round(rate)}`;
  let s = formatBytes(p.bytes);
  if (p.total > 0) {
    const done = Math.min(p.bytes, p.total);
    s += ` / ${formatBytes(p.total)} (${Math.floor((100 * done) / p.total)}%)`;
  }
  s += `  ${pps} packets/s`;
  if (p.total > 0 && p.bytes > 0 && p.elapsed >= 1) s += `  ETA ${formatDuration((p.elapsed * (p.total - Math.min(p.bytes, p.total))) / p.bytes)}`;
  return s;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  total: number;
  packets: () => number;
  /** redraw interval, ms (default 500) */
  everyMs?: number;
}

/** Redraws the progress line until stop(); a no-op unless the stream is a TTY. */
export class ProgressLine {
  readonly counter: ReadProgress = { bytes: 0 };
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = process.hrtime.bigint();
  private drawn = false;

  constructor(private readonly o: ProgressOptions) {
    if (!o.stream.isTTY) return;
    this.timer = setInterval(() => this.draw(), o.everyMs ?? 500);
    this.timer.unref();
  }

  private draw(): void {
    const elapsed = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const line = formatProgress({ bytes: this.counter.bytes, total: this.o.total, packets: this.o.packets(), elapsed });
    const cols = this.o.stream.columns || 80;
    this.o.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** stops and erases the line, so the summary starts on a clean line */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.o.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
