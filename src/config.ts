/**
 * Configuration: one schema with defaults, read from a JSON file and
 * overridden by command-line flags. The detector part of the schema is built
 * from each detector's documented defaults (src/detect/index.ts). Unknown
 * keys and wrong types are rejected with the key path, so a typo never
 * silently leaves a default in place.
 */
import { readFileSync } from 'node:fs';
import { detectorDefaults, type DetectorSettings } from './detect/index.js';
import { DEFAULT_TIMEOUTS, DEFAULT_MAX_FLOWS, type FlowTimeouts } from './flows/flow-table.js';
import { DEFAULT_SUPPRESSION_INTERVAL } from './alerts/dedup.js';
import { PRIVATE_NETS } from './util/cidr.js';

export class ConfigError extends Error {}

/** One syslog destination (outputs.syslog is a list of these). */
export interface SyslogOutput {
  /** udp://host:port, tcp://host:port, unix:///dev/log, unix-stream:///path */
  url: string;
  protocol: 'rfc5424' | 'rfc3164';
  /** payload inside the syslog message: json, ecs or cef */
  format: string;
  facility: string;
  appName: string;
  /** HOSTNAME field; empty = this host's name */
  hostname: string;
  /** on-disk spool while the server is down (stream transports); empty = $STATE_DIRECTORY/spool or tmp */
  spoolDir: string;
  spoolMaxBytes: number;
}

export const SYSLOG_OUTPUT_DEFAULTS: SyslogOutput = {
  url: '', protocol: 'rfc5424', format: 'json', facility: 'local5', appName: 'tapwatch', hostname: '', spoolDir: '',
  spoolMaxBytes: 64 * 1024 * 1024,
};

export interface Config {
  /** live capture (tapwatch run) */
  capture: {
    interface: string;
    /** BPF filter (pcap-filter(7)); empty = everything */
    filter: string;
    snaplen: number;
    promisc: boolean;
    /** kernel capture buffer, bytes */
    bufferSize: number;
  };
  /** where alerts go (tapwatch run); several at once */
  outputs: {
    /** JSON-lines alert file, reopened on SIGHUP; empty path = none */
    file: { path: string; format: string };
    /** alerts on stdout (for journald) */
    stdout: { enabled: boolean; format: string };
    syslog: SyslogOutput[];
  };
  daemon: {
    /** cron expression (node-cron, seconds field optional) for the stats log line */
    statsSchedule: string;
    /** pino level for the daemon's own log (stderr): fatal error warn info debug trace */
    logLevel: string;
    /** live: seconds without packets after which the packet clock is advanced by the wall clock (so idle windows still close) */
    idleAdvance: number;
    /** at SIGTERM, seconds to keep analysing packets already captured; the rest is counted, not analysed (systemd TimeoutStopSec is 15) */
    stopDrainSeconds: number;
    /** Prometheus endpoint host:port (GET /metrics), e.g. 127.0.0.1:9464; empty = off */
    metrics: string;
  };
  network: {
    /** HOME_NET (Suricata's term): the networks tapwatch protects */
    homeNet: string[];
  };
  flows: { timeouts: FlowTimeouts; maxFlows: number };
  alerts: {
    /** seconds a repeated alert (kind, src, dst) is folded into the first; 0 disables (Zeek: 3600) */
    suppression: number;
    /** per-kind suppression intervals, e.g. {"port_scan": 900} */
    perKind: Record<string, number>;
    /** seconds of packet time between updates of a folded alert */
    updateEvery: number;
  };
  detectors: Record<string, DetectorSettings>;
}

export function defaultConfig(): Config {
  return {
    capture: { interface: '', filter: '', snaplen: 262144, promisc: true, bufferSize: 64 * 1024 * 1024 },
    outputs: { file: { path: '', format: 'json' }, stdout: { enabled: false, format: 'json' }, syslog: [] },
    daemon: { statsSchedule: '* * * * *', logLevel: 'info', idleAdvance: 2, stopDrainSeconds: 8, metrics: '' },
    network: { homeNet: [...PRIVATE_NETS] },
    flows: { timeouts: { ...DEFAULT_TIMEOUTS }, maxFlows: DEFAULT_MAX_FLOWS },
    alerts: { suppression: DEFAULT_SUPPRESSION_INTERVAL, perKind: {}, updateEvery: 60 },
    detectors: detectorDefaults(),
  };
}

/** Maps whose keys are the user's (not part of the schema); their values must be numbers. */
const FREE_MAPS = new Set(['alerts.perKind']);
/** Lists of objects: each element is checked against its template. */
const OBJECT_LISTS: Record<string, object> = { 'outputs.syslog': SYSLOG_OUTPUT_DEFAULTS };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep-merges `over` into `base`, checking every key and type against the defaults. */
export function mergeConfig(base: Config, over: unknown, where = ''): Config {
  mergeInto(base as unknown as Record<string, Json>, over as Json, where);
  return base;
}

function mergeInto(target: Record<string, Json>, over: Json, path: string): void {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) {
    throw new ConfigError(`${path || '(top level)'}: expected an object`);
  }
  for (const [k, v] of Object.entries(over)) {
    const p = path ? `${path}.${k}` : k;
    if (FREE_MAPS.has(path)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${p}: expected a non-negative number, got ${JSON.stringify(v)}`);
      target[k] = v;
      continue;
    }
    if (!(k in target)) throw new ConfigError(`${p}: unknown key`);
    const cur = target[k]!;
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      mergeInto(cur as Record<string, Json>, v, p);
      continue;
    }
    if (OBJECT_LISTS[p]) {
      if (!Array.isArray(v)) throw new ConfigError(`${p}: expected a list`);
      target[k] = v.map((item, i) => {
        const el = structuredClone(OBJECT_LISTS[p]) as Record<string, Json>;
        mergeInto(el, item, `${p}[${i}]`);
        return el;
      });
      continue;
    }
    if (Array.isArray(cur)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${p}: expected a list of strings`);
      target[k] = v;
      continue;
    }
    if (typeof cur === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${p}: expected a non-negative number, got ${JSON.stringify(v)}`);
    } else if (typeof cur === 'boolean') {
      if (typeof v !== 'boolean') throw new ConfigError(`${p}: expected true or false, got ${JSON.stringify(v)}`);
    } else if (typeof v !== typeof cur) {
      throw new ConfigError(`${p}: expected a ${typeof cur}, got ${JSON.stringify(v)}`);
    }
    target[k] = v;
  }
}

export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'cannot read'}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Parses "a.b.c=value" overrides (value as JSON when it parses, else a string). */
export function parseSet(expr: string): unknown {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${expr}: expected key.path=value`);
  const keys = expr.slice(0, eq).split('.');
  const raw = expr.slice(eq + 1);
  let value: unknown;
  try { value = JSON.parse(raw); } catch { value = raw; }
  const root: Record<string, unknown> = {};
  let cur = root;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) cur[k] = value;
    else { const n: Record<string, unknown> = {}; cur[k] = n; cur = n; }
  });
  return root;
}
