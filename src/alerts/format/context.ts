import type { Alert, Severity } from '../types.js';

/** What every formatter knows besides the alert itself. */
export interface FormatContext {
  /** host the sensor runs on (syslog HOSTNAME, ECS observer.hostname, CEF dvchost) */
  hostname: string;
  /** sensor instance name (e.g. the capture interface or a configured id) */
  sensor: string;
  /** tapwatch version */
  version: string;
}

/** A payload formatter: pure, returns one line without a trailing newline. */
export type AlertFormatter = (alert: Alert, ctx: FormatContext) => string;

/** CEF 0–10 severity; also used as ECS event.severity (same banding). */
export const SEVERITY_SCORE: Readonly<Record<Severity, number>> = {
  low: 3,
  medium: 5,
  high: 8,
  critical: 10,
};

/** numeric score for a severity; unknown strings count as low */
export function severityScore(s: Severity | string): number {
  return (SEVERITY_SCORE as Record<string, number>)[s] ?? SEVERITY_SCORE.low;
}
