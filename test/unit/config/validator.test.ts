/**
 * The configuration validator (src/config.ts): the lazily compiled
 * per-section validation answers as the whole published schema does; every
 * hostile value at every key is a ConfigError naming that key (never another
 * exception); and any value the schema admits builds and runs the pipeline
 * without throwing (so a valid configuration can never crash run or analyze).
 */
import { describe, it, expect } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMATS, configSchema, defaultConfig, mergeConfig, validateLayer, ConfigError, resolveConfig, parseSet, type Config } from '../../../src/config.js';
import { buildDetectors } from '../../../src/detect/index.js';
import { Pipeline } from '../../../src/pipeline.js';
import { readCapture } from '../../../src/capture/reader.js';
import { CidrSet } from '../../../src/util/cidr.js';

const PCAPS = join(__dirname, '../../../pcaps');

/** every leaf of the default configuration as [path, value] */
function leaves(x: unknown, path: string[] = []): Array<[string[], unknown]> {
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length) {
    return Object.entries(x).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, x]];
}
const nest = (path: string[], v: unknown): unknown => path.reduceRight<unknown>((acc, k) => ({ [k]: acc }), v);

function fullValidator() {
  const ajv = new Ajv2020({ strict: true });
  for (const [f, check] of Object.entries(FORMATS)) ajv.addFormat(f, { type: 'string', validate: (s: string) => check(s) === null });
  return ajv.compile(configSchema());
}

describe('config schema', () => {
  it('the published schema (draft 2020-12) compiles in strict mode and accepts the defaults', () => {
    const v = fullValidator();
    expect(v(defaultConfig()), JSON.stringify(v.errors)).toBe(true);
  });

  it('every leaf of the defaults is a key of the schema, and a layer holding just that default validates', () => {
    for (const [path, v] of leaves(defaultConfig())) expect(() => validateLayer(nest(path, v)), path.join('.')).not.toThrow();
  });

  it('a wrong type at any key is a ConfigError that names the key path; the whole schema rejects it too', () => {
    const full = fullValidator();
    for (const [path, v] of leaves(defaultConfig())) {
      const bad = typeof v === 'string' ? 12 : typeof v === 'number' ? 'twelve' : typeof v === 'boolean' ? 'yes' : Array.isArray(v) ? 'not-a-list' : 7;
      const layer = nest(path, bad);
      const key = path.join('.');
      expect(() => validateLayer(layer), key).toThrow(ConfigError);
      try { validateLayer(layer); } catch (e) { expect((e as Error).message.startsWith(key), (e as Error).message).toBe(true); }
      expect(full(layer), key).toBe(false);
    }
  });

  it('an unknown key anywhere is rejected with its path and a suggestion when one is close', () => {
    expect(() => validateLayer({ detectors: { event_rate: { maxPerSecnd: 5 } } })).toThrow(/^detectors\.event_rate\.maxPerSecnd: unknown key \(did you mean maxPerSecond\?\)$/);
    expect(() => validateLayer({ outputs: { syslog: [{ url: 'udp://127.0.0.1:514', facilty: 'local5' }] } })).toThrow(/^outputs\.syslog\[0\]\.facilty: unknown key \(did you mean facility\?\)$/);
    expect(() => validateLayer({ captur: {} })).toThrow(/^captur: unknown key \(did you mean capture\?\)$/);
  });

  it('layers merge in order: objects key by key, lists replaced, syslog items completed from their defaults', () => {
    const cfg = resolveConfig([
      { source: 'file', data: { alerts: { perKind: { port_scan: 10 } }, network: { homeNet: ['10.0.0.0/8'] }, outputs: { syslog: [{ url: 'udp://127.0.0.1:514' }] } } },
      { source: '--set', data: parseSet('alerts.perKind.host_sweep=20') },
      { source: '--set', data: parseSet('network.homeNet=["192.168.0.0/16"]') },
    ]);
    expect(cfg.alerts.perKind).toEqual({ port_scan: 10, host_sweep: 20 });
    expect(cfg.network.homeNet).toEqual(['192.168.0.0/16']);
    expect(cfg.outputs.syslog[0]).toMatchObject({ url: 'udp://127.0.0.1:514', protocol: 'rfc5424', format: 'json', facility: 'local5', spoolMaxBytes: 64 * 1024 * 1024 });
    expect(() => resolveConfig([{ source: 'x.json', data: { daemon: { logLevel: 'loud' } } }])).toThrow(/^x\.json: daemon\.logLevel: expected one of/);
  });

  it('a rejected layer leaves the configuration being built untouched', () => {
    const cfg = defaultConfig();
    expect(() => mergeConfig(cfg, { alerts: { suppression: 5, updateEvery: -1 } })).toThrow(ConfigError);
    expect(cfg.alerts.suppression).toBe(defaultConfig().alerts.suppression);
  });
});

/** runs a few bundled attack captures through a pipeline built from `cfg` */
async function exercise(cfg: Config): Promise<void> {
  const p = new Pipeline({
    detectors: buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet) }),
    tracker: { timeouts: cfg.flows.timeouts, maxFlows: cfg.flows.maxFlows },
    suppression: { interval: cfg.alerts.suppression, perKind: cfg.alerts.perKind },
    updateEvery: cfg.alerts.updateEvery,
    onAlert: () => {},
  });
  for (const f of ['nmap-syn-scan.pcap', 'http-path-scan.pcap', 'dns-tunnel.pcap', 'ssh-bruteforce-fail.pcap']) await readCapture(join(PCAPS, f), p);
  p.finish();
}

/** the numeric leaves under detectors, flows and alerts, with the schema's bounds */
function numericKeys(): Array<{ path: string[]; min: number; max: number; integer: boolean }> {
  const schema = configSchema();
  const at = (path: string[]): Record<string, unknown> => {
    let s: Record<string, unknown> = schema;
    for (const k of path) s = (s.properties as Record<string, Record<string, unknown>>)[k]!;
    return s;
  };
  return leaves(defaultConfig())
    .filter(([path, v]) => typeof v === 'number' && ['detectors', 'flows', 'alerts'].includes(path[0]!))
    .map(([path]) => {
      const s = at(path);
      return { path, min: (s.minimum as number) ?? 0, max: (s.maximum as number | undefined) ?? 1e9, integer: s.type === 'integer' };
    });
}

describe('any value the schema admits runs', () => {
  it('every numeric tunable at its lower bound, then all at a large value, through the bundled attack captures', async () => {
    const keys = numericKeys();
    expect(keys.length).toBeGreaterThan(100);
    for (const pick of [(k: { min: number }) => k.min, (k: { max: number }) => Math.min(k.max, 1e9)]) {
      const cfg = defaultConfig();
      for (const k of keys) mergeConfig(cfg, nest(k.path, pick(k as never)));
      await exercise(cfg);
    }
  }, 120_000);

  it('random admitted values per tunable (fixed seed) never throw', async () => {
    const keys = numericKeys();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(keys.length - 1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 40 }), async (picks) => {
        const cfg = defaultConfig();
        for (const [i, r] of picks) {
          const k = keys[i]!;
          const hi = Math.min(k.max, 1e7);
          let v = k.min + (hi - k.min) * r * r * r; // mostly small values, where the edge cases are
          if (k.integer) v = Math.round(v);
          mergeConfig(cfg, nest(k.path, v));
        }
        await exercise(cfg);
      }),
      { seed: 8, numRuns: 25 },
    );
  }, 300_000);
});

it('the pcaps used exist', () => { expect(readFileSync(join(PCAPS, 'nmap-syn-scan.pcap')).length).toBeGreaterThan(24); });
