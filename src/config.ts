/**
 * Configuration: one schema with defaults, read from a JSON file and
 * overridden by command-line flags. Unknown keys and wrong types are rejected
 * with the key path, so a typo never silently leaves a default in place.
 */
import { readFileSync } from 'node:fs';
import { SIZE_ANOMALY_DEFAULTS, type SizeAnomalyConfig } from './detect/size-anomaly.js';
import { TYPE_FREQUENCY_DEFAULTS, type TypeFrequencyConfig } from './detect/type-frequency.js';
import { EVENT_RATE_DEFAULTS, type EventRateConfig } from './detect/event-rate.js';
import { DEFAULT_TIMEOUTS, DEFAULT_MAX_FLOWS, type FlowTimeouts } from './flows/flow-table.js';

export class ConfigError extends Error {}

type WithEnabled<T> = T & { enabled: boolean };

export interface Config {
  flows: { timeouts: FlowTimeouts; maxFlows: number };
  detectors: {
    size_anomaly: WithEnabled<SizeAnomalyConfig>;
    type_frequency: WithEnabled<TypeFrequencyConfig>;
    event_rate: WithEnabled<EventRateConfig>;
  };
}

export function defaultConfig(): Config {
  return {
    flows: { timeouts: { ...DEFAULT_TIMEOUTS }, maxFlows: DEFAULT_MAX_FLOWS },
    detectors: {
      size_anomaly: { enabled: true, ...SIZE_ANOMALY_DEFAULTS },
      type_frequency: { enabled: true, ...TYPE_FREQUENCY_DEFAULTS, types: [...TYPE_FREQUENCY_DEFAULTS.types] },
      event_rate: { enabled: true, ...EVENT_RATE_DEFAULTS, types: [...EVENT_RATE_DEFAULTS.types] },
    },
  };
}

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
    if (!(k in target)) throw new ConfigError(`${p}: unknown key`);
    const cur = target[k]!;
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      mergeInto(cur as Record<string, Json>, v, p);
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
