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

/** payload formats a line-oriented sink can carry (the configuration schema's list too: add one here) */
export const PAYLOAD_FORMATS = ['json', 'ecs', 'cef'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

export function parsePayloadFormat(s: string | undefined, allowText = false): PayloadFormat {
  const v = (s ?? 'json').toLowerCase();
  if ((PAYLOAD_FORMATS as readonly string[]).includes(v) || (allowText && v === 'text')) return v as PayloadFormat;
  throw new Error(`unknown payload format "${s}" (expected ${[...PAYLOAD_FORMATS, ...(allowText ? ['text'] : [])].join(', ')})`);
}
