import type { NetEvent } from '../events/types.js';
import type { Alert } from '../alerts/types.js';

export type Emit = (alert: Alert) => void;

/**
 * One small interface for every detector. Detectors see events in packet-time
 * order, keep bounded state, and never consult the wall clock: `advance` is
 * called with packet time (or, for a live capture with no traffic, with the
 * capture clock extrapolated from the last packet) so windows close on time.
 */
export interface Detector {
  readonly name: string;
  onEvent(e: NetEvent, emit: Emit): void;
  /** packet time moved to `now`: expire windows, raise what is due */
  advance(now: number, emit: Emit): void;
  /** end of input: report what is still pending */
  flush(now: number, emit: Emit): void;
  /** counters for the stats line and the summary (state size, evictions …) */
  stats(): Record<string, number>;
  /**
   * SIGHUP with changed settings: apply them keeping state and return true,
   * or return false (or omit) and the daemon rebuilds the detector.
   */
  reconfigure?(settings: object): boolean;
  /** SIGHUP: re-read external inputs (list files …) */
  reload?(): void;
}
