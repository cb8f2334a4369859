import type { Alert } from '../alerts/types.js';

/**
 * Where alerts go. `write` never throws and never blocks on the network:
 * sinks queue, batch or spool internally and count what happened in stats().
 */
export interface AlertSink {
  readonly name: string;
  write(alert: Alert): void;
  /** resolves when everything written so far is delivered or safely spooled */
  flush(): Promise<void>;
  /** flush, then release sockets, files and timers; write() after close() is counted and dropped */
  close(): Promise<void>;
  /** SIGHUP / logrotate: reopen files (or reconnect) */
  reopen?(): Promise<void>;
  /** counters for the stats line: written, delivered, spooled, dropped, errors … */
  stats(): Record<string, number>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Injected logger; sinks never print on their own. */
export type SinkLogger = (level: LogLevel, msg: string, obj?: Record<string, unknown>) => void;

export const nullLogger: SinkLogger = () => {};

/** payload formats a line-oriented sink can carry */
export type PayloadFormat = 'json' | 'ecs' | 'cef';

export function parsePayloadFormat(s: string | undefined, allowText = false): PayloadFormat {
  const v = (s ?? 'json').toLowerCase();
  if (v === 'json' || v === 'ecs' || v === 'cef' || (allowText && v === 'text')) return v as PayloadFormat;
  throw new Error(`unknown payload format "${s}" (expected json, ecs${allowText ? ', cef or text' : ' or cef'})`);
}
