/**
 * Number and duration formatting shared by the detectors' alert summaries and
 * evidence (one rounding rule everywhere, so the same figure reads the same
 * in every alert).
 */
import type { TopK } from './sketch.js';

/** a duration for a summary line: "350 ms", "4.2 s", "75 s", "12 min" */
export function fmtDur(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${Math.round(s * 10) / 10} s`;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.round(s / 60)} min`;
}

/** a / b as a percentage with one decimal ("12.5%"); 0% when b is 0 */
export function pct(a: number, b: number): string { return `${b ? Math.round((1000 * a) / b) / 10 : 0}%`; }

export function round2(x: number): number { return Math.round(x * 100) / 100; }
export function round3(x: number): number { return Math.round(x * 1000) / 1000; }

/** the top-k items holding at least 5 % of the stream each, at most 5 (spoofed sources hold none) */
export function heavy<K>(t: TopK<K>): K[] {
  return t.top().filter(([, c]) => c >= 0.05 * t.n).slice(0, 5).map(([k]) => k);
}
