import type { EventType, NetEvent } from '../events/types.js';
import type { Alert } from '../alerts/types.js';

export type Emit = (alert: Alert) => void;

/**
 * What a detector's state is keyed by, i.e. which events must meet in the
 * same detector instance for it to decide the same way:
 *   src / dst  the event's source / destination address
 *   initiator  the host that started the exchange: the source, except for an
 *              ICMP error, whose quoted packet came from the event's destination
 *   pair       the unordered address pair {src, dst} (a request and its answer meet)
 *   global     state over all events (one instance sees everything)
 * A detector that shards by different keys for different event types gives a
 * map by type. The pipeline uses this to route events to a detector's shard;
 * the detector itself never knows whether it runs sharded.
 */
export type KeyBy = 'src' | 'dst' | 'initiator' | 'pair' | 'global';
export type KeyByType = KeyBy | Readonly<Partial<Record<EventType, KeyBy>>>;

/**
 * One small interface for every detector. Detectors see events in packet-time
 * order, keep bounded state, and never consult the wall clock: `advance` is
 * called with packet time (or, for a live capture with no traffic, with the
 * capture clock extrapolated from the last packet) so windows close on time.
 */
export interface Detector {
  readonly name: string;
  /**
   * The event types it acts on: only these are delivered (no per-event loop
   * over every detector). May follow the settings (event_rate's `types`): the
   * pipeline reads it again after a reconfigure.
   */
  readonly consumes: readonly EventType[];
  /** what its state is keyed by (see KeyBy) */
  readonly keyBy: KeyByType;
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

