/**
 * Configuration: one declaration (CONFIG_SPEC below) from which the defaults,
 * the TypeScript type and the JSON Schema are all derived, so adding a key is
 * one line. Every layer (file, environment, flags, --set) is validated on its
 * own against that schema with ajv before it is merged, so an error names
 * both where the value came from and its key path; then a few checks that
 * span keys run on the merged result. check-config, analyze, run and SIGHUP
 * all go through resolveConfig().
 *
 * Why ajv rather than zod: the same library validates our published output
 * JSON Schemas (events, alerts) in the tests, and the schema here is data
 * generated from the defaults (the detector part from the registry), which
 * JSON Schema expresses directly; one validator library, not two.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js';
import cron from 'node-cron';
import { DETECTORS, detectorDefaults, type DetectorSettings } from './detect/index.js';
import { DEFAULT_TIMEOUTS, DEFAULT_MAX_FLOWS } from './flows/flow-table.js';
import { DEFAULT_SUPPRESSION_INTERVAL } from './alerts/dedup.js';
import { CidrSet, PRIVATE_NETS } from './util/cidr.js';
import { PAYLOAD_FORMATS } from './sinks/sink.js';
import { parseSyslogTarget } from './sinks/syslog.js';
import { parseFacility } from './sinks/syslog-format.js';
import { parseListen } from './metrics/prometheus.js';
import { parseRedisUrl } from './sinks/redis.js';
import { DEFAULT_PROGRESS } from './flows/tracker.js';
import { DNS_TX_DEFAULTS } from './flows/transactions.js';
import { FOLD_DEFAULTS } from './alerts/fold.js';
import { INCIDENT_DEFAULTS } from './alerts/incidents.js';
import { RING_DEFAULTS } from './flows/packet-ring.js';
import { PCAP_LOG_DEFAULTS } from './alerts/pcap-log.js';
import { DEFAULT_MEMORY_MIB, capScale, flowsForBudget } from './limits.js';
import { capKeysOf } from './detect/caps.js';

export class ConfigError extends Error {}

// ---------------------------------------------------------------------------
// Building blocks: a Leaf is one value with its default and its schema; a
// Shape is an object of Leaves and Shapes (an object with fixed keys).

interface Leaf<T> {
  readonly leaf: true;
  readonly def: () => T;
  readonly schema: () => SchemaObject;
  /** how a validated layer's value combines with the current one (default: objects merge, the rest replaces) */
  merge?(cur: T, over: unknown): T;
}
type Node = Leaf<unknown> | Shape;
interface Shape { readonly [k: string]: Node }
type Infer<N> = N extends Leaf<infer T> ? T : { -readonly [K in keyof N]: Infer<N[K]> };

const isLeaf = (n: Node): n is Leaf<unknown> => (n as Leaf<unknown>).leaf === true;

function leaf<T>(def: T, schema: SchemaObject, merge?: (cur: T, over: unknown) => T): Leaf<T> {
  return { leaf: true, def: () => structuredClone(def), schema: () => schema, ...(merge ? { merge } : {}) };
}
/** a finite number ≥ min (default 0), ≤ max; integer when asked */
const num = (def: number, o: { min?: number; max?: number; integer?: boolean } = {}): Leaf<number> =>
  leaf(def, { type: o.integer ? 'integer' : 'number', minimum: o.min ?? 0, ...(o.max !== undefined ? { maximum: o.max } : {}) });
const str = (def: string, format?: string): Leaf<string> => leaf(def, { type: 'string', ...(format ? { format } : {}) });
const bool = (def: boolean): Leaf<boolean> => leaf(def, { type: 'boolean' });
const oneOf = <T extends string>(values: readonly T[], def: T): Leaf<T> => leaf(def, { type: 'string', enum: [...values] });
const strList = (def: string[], format?: string): Leaf<string[]> =>
  leaf(def, { type: 'array', items: { type: 'string', ...(format ? { format } : {}) } });
/** a list of objects, each element completed from the element's defaults */
function objList<S extends Shape>(item: S, required: (keyof S & string)[]): Leaf<Infer<S>[]> {
  return {
    leaf: true,
    def: () => [],
    schema: () => ({ type: 'array', items: { ...shapeSchema(item), required } }),
    merge: (_cur, over) => (over as unknown[]).map((el) => mergeShape(item, defaultsOf(item) as Record<string, unknown>, el) as Infer<S>),
  };
}

function shapeSchema(s: Shape): SchemaObject {
  const properties: Record<string, SchemaObject> = {};
  for (const [k, n] of Object.entries(s)) properties[k] = isLeaf(n) ? n.schema() : shapeSchema(n);
  return { type: 'object', additionalProperties: false, properties };
}

function defaultsOf(s: Shape): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, n] of Object.entries(s)) out[k] = isLeaf(n) ? n.def() : defaultsOf(n);
  return out;
}

/** A Shape whose leaves are inferred from a defaults object (detectors, flow timeouts); `refine` overrides some keys. */
function fromDefaults(defaults: object, refine: (key: string, value: unknown) => Node | undefined = () => undefined): Shape {
  const out: Record<string, Node> = {};
  for (const [k, v] of Object.entries(defaults)) {
    out[k] = refine(k, v) ?? (
      typeof v === 'number' ? num(v)
      : typeof v === 'boolean' ? bool(v)
      : typeof v === 'string' ? str(v)
      : Array.isArray(v) && v.every((x) => typeof x === 'string') ? strList(v as string[])
      : leaf(v, {}));
  }
  return out;
}

function deepMerge(cur: unknown, over: unknown): unknown {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return structuredClone(over);
  const base = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(over)) base[k] = deepMerge(base[k], v);
  return base;
}

function mergeShape(s: Shape, target: Record<string, unknown>, over: unknown): Record<string, unknown> {
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    const n = s[k]!;
    if (isLeaf(n)) target[k] = n.merge ? n.merge(target[k], v) : deepMerge(target[k], v);
    else mergeShape(n, target[k] as Record<string, unknown>, v);
  }
  return target;
}

// ---------------------------------------------------------------------------
// Formats: each is a check returning null or the reason, shared by ajv and the error text.

export const FORMATS: Record<string, (s: string) => string | null> = {
  cidr: (s) => {
    const bad = `"${s}" is not an IPv4/IPv6 address or CIDR prefix (e.g. 10.0.0.0/8, fd00::/8)`;
    if (s.trim() === '') return bad;
    try { CidrSet.parse([s]); return null; } catch { return bad; }
  },
  cron: (s) => {
    const d = cron.validateDetailed(s) as { valid: boolean; errors?: { message?: string }[] };
    return d.valid ? null : `"${s}" is not a valid cron expression (${d.errors?.[0]?.message ?? 'node-cron rejects it'}; e.g. "* * * * *")`;
  },
  'syslog-url': (s) => {
    try { parseSyslogTarget(s); return null; } catch (e) { return (e as Error).message; }
  },
  'redis-url': (s) => {
    if (s === '') return null;
    try { parseRedisUrl(s); return null; } catch (e) { return (e as Error).message; }
  },
  listen: (s) => {
    if (s === '') return null;
    try { parseListen(s); return null; } catch (e) { return (e as Error).message; }
  },
  facility: (s) => {
    try { parseFacility(s); return null; } catch (e) { return (e as Error).message; }
  },
};

// ---------------------------------------------------------------------------
// The configuration. Add a key here: its default, type and validation follow.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const SYSLOG_OUTPUT = {
  /** udp://host:port, tcp://host:port, unix:///dev/log, unix-stream:///path */
  url: str('', 'syslog-url'),
  protocol: oneOf(['rfc5424', 'rfc3164'] as const, 'rfc5424'),
  /** payload inside the syslog message */
  format: oneOf(PAYLOAD_FORMATS, 'json'),
  /** kern…local7 or 0–23 */
  facility: str('local5', 'facility'),
  appName: str('tapwatch'),
  /** HOSTNAME field; empty = this host's name */
  hostname: str(''),
  /** on-disk spool while the server is down (stream transports); empty = $STATE_DIRECTORY/spool or tmp */
  spoolDir: str(''),
  spoolMaxBytes: num(64 * 1024 * 1024, { integer: true, min: 4096 }),
};

/**
 * State caps (maxPairs, maxSources …) preallocate admission filters of a few
 * dozen bytes per entry, so a cap of 1e9 would try to take gigabytes at start:
 * caps (keys max… whose default is an integer ≥ 1000; not ratios such as
 * maxCompletion) are integers ≤ MAX_STATE_CAP (4 Mi entries).
 */
export const MAX_STATE_CAP = 4 * 1024 * 1024;
/**
 * Upper bounds of tunables that size per-key state or loops ("detector.key",
 * or "*.key" for every detector): a value the schema admits must run.
 * unknownWeight is repeated per undecided connection; ssh_bruteforce keeps a
 * ring of `threshold` timestamps per source; slow_scan's table and distributed_scan's
 * per-target sources are sized by the keys below.
 */
const DETECTOR_LIMITS: Record<string, number> = {
  '*.unknownWeight': 10, 'ssh_bruteforce.threshold': 100_000,
  // slow_scan preallocates ~220 bytes per source record (262,144: ~57 MiB) and 32 per admitted first probe
  'slow_scan.maxSources': 262_144, 'slow_scan.admit': 2_097_152,
  // a full target scans its sources to pick the one to displace;
  'distributed_scan.maxSourcesPerTarget': 4096,
};
const detectorRefine = (detector: string) => (k: string, v: unknown): Node | undefined => {
  const limit = DETECTOR_LIMITS[`${detector}.${k}`] ?? DETECTOR_LIMITS[`*.${k}`];
  return limit !== undefined && typeof v === 'number' ? num(v, { max: limit }) : capRefine(k, v);
};
const capRefine = (k: string, v: unknown): Node | undefined =>
  k === 'allow' && Array.isArray(v) ? strList(v as string[], 'cidr')
  : /^max[A-Z]/.test(k) && typeof v === 'number' && Number.isInteger(v) && v >= 1000 ? num(v, { integer: true, min: 1, max: MAX_STATE_CAP })
  : undefined;

/** detectors: one object per registered detector, `enabled` plus its documented defaults */
function detectorsShape(): Shape {
  const out: Record<string, Shape> = {};
  for (const s of DETECTORS) out[s.name] = { enabled: bool(s.enabledByDefault ?? true), ...fromDefaults(s.defaults, detectorRefine(s.name)) };
  return out;
}
/** kinds an alert can have: every detector raises alerts of its own name */
export const alertKinds = (): string[] => DETECTORS.map((d) => d.name);

const CONFIG_SPEC = {
  /** live capture (tapwatch run) */
  capture: {
    interface: str(''),
    /** BPF filter (pcap-filter(7)); empty = everything */
    filter: str(''),
    snaplen: num(262144, { integer: true, min: 64, max: 262144 }),
    promisc: bool(true),
    /** kernel capture buffer, bytes */
    bufferSize: num(64 * 1024 * 1024, { integer: true, min: 65536, max: 2 ** 31 - 1 }),
  },
  /** where alerts go (tapwatch run); several at once */
  outputs: {
    /** JSON-lines alert file, reopened on SIGHUP; empty path = none */
    file: { path: str(''), format: oneOf(PAYLOAD_FORMATS, 'json') },
    /** alerts on stdout (for journald) */
    stdout: { enabled: bool(false), format: oneOf([...PAYLOAD_FORMATS, 'text'] as const, 'json') },
    syslog: objList(SYSLOG_OUTPUT, ['url']),
    /** Redis Streams (sinks/redis.ts); empty url = off */
    redis: {
      /** redis://host[:port][/db] or unix:///path/redis.sock */
      url: str('', 'redis-url'),
      /** stream key for alerts */
      stream: str('tapwatch:alerts'),
      /** XADD MAXLEN ~ bound on each stream's length */
      maxLen: num(1_000_000, { integer: true, min: 1 }),
      format: oneOf(['json', 'ecs'] as const, 'json'),
      /** also every event, to eventsStream (a second connection and spool) */
      events: bool(false),
      eventsStream: str('tapwatch:events'),
      /** on-disk spool while Redis is down; empty = $STATE_DIRECTORY/spool or tmp */
      spoolDir: str(''),
      spoolMaxBytes: num(64 * 1024 * 1024, { integer: true, min: 4096 }),
    },
  },
  daemon: {
    /** cron expression (node-cron, seconds field optional) for the stats log line */
    statsSchedule: str('* * * * *', 'cron'),
    /** pino level for the daemon's own log (stderr) */
    logLevel: oneOf(LOG_LEVELS, 'info'),
    /** live: seconds without packets after which the packet clock is advanced by the wall clock (so idle windows still close) */
    idleAdvance: num(2),
    /** at SIGTERM, seconds to keep analysing packets already captured; the rest is counted, not analysed (systemd TimeoutStopSec is 15) */
    stopDrainSeconds: num(8),
    /** started as root: the user to switch to once the capture and the outputs are open; empty = stay */
    user: str(''),
    /** Prometheus endpoint host:port (GET /metrics), e.g. 127.0.0.1:9464; empty = off */
    metrics: str('', 'listen'),
  },
  limits: {
    /**
     * whole-process memory target, MiB (src/limits.ts): the flow-table and detector
     * caps left at their defaults are scaled to it (the defaults fit 512), and V8's
     * heap growth is kept near the live size
     */
    memoryMiB: num(DEFAULT_MEMORY_MIB, { integer: true, min: 160, max: 1 << 20 }),
  },
  network: {
    /** HOME_NET (Suricata's term): the networks tapwatch protects */
    homeNet: strList([...PRIVATE_NETS], 'cidr'),
  },
  flows: {
    timeouts: fromDefaults(DEFAULT_TIMEOUTS) as { attempt: Leaf<number>; established: Leaf<number>; closing: Leaf<number>; udp: Leaf<number> },
    maxFlows: num(DEFAULT_MAX_FLOWS, { integer: true, min: 1, max: 4 * MAX_STATE_CAP }),
    /** seed of flow uids and alert ids (any text); empty = random per run, as Zeek's (flows/uid.ts) */
    uidSeed: str(''),
    /** flow worker threads for analyze (src/parallel/); 1 = the single-thread pipeline, 0 = one per core */
    workers: num(1, { integer: true, min: 0, max: 256 }),
    /** conn_progress events of long-lived flows: every `interval` s of packet time or `bytes` of payload; 0 turns a trigger off */
    progress: { interval: num(DEFAULT_PROGRESS.interval, { min: 0 }), bytes: num(DEFAULT_PROGRESS.bytes, { integer: true, min: 0 }) },
    /** DNS queries waiting for their answer (rtt pairing): per flow (Zeek: 50) and in all; past a cap the oldest is dropped and counted */
    dnsPending: {
      perFlow: num(DNS_TX_DEFAULTS.perFlow, { integer: true, min: 1, max: 65536 }),
      total: num(DNS_TX_DEFAULTS.total, { integer: true, min: 1, max: MAX_STATE_CAP }),
    },
  },
  alerts: {
    /** seconds a repeated alert (kind, src, dst) is folded into the first; 0 disables (Zeek: 3600) */
    suppression: num(DEFAULT_SUPPRESSION_INTERVAL),
    /** per-kind suppression intervals, e.g. {"port_scan": 900}; only kinds some detector raises */
    perKind: {
      leaf: true,
      def: () => ({}),
      schema: () => ({ type: 'object', propertyNames: { enum: alertKinds() }, additionalProperties: { type: 'number', minimum: 0 } }),
    } as Leaf<Record<string, number>>,
    /** seconds of packet time between updates of a folded alert */
    updateEvery: num(60),
    /** generic alerts folded into a specific alert about the same host (src/alerts/fold.ts) */
    fold: { generic: strList([...FOLD_DEFAULTS.generic]), hold: num(FOLD_DEFAULTS.hold, { min: 0 }), window: num(FOLD_DEFAULTS.window, { min: 0 }) },
    /** alerts grouped into incidents by attacker or victim (src/alerts/incidents.ts) */
    incidents: {
      enabled: bool(true), horizon: num(INCIDENT_DEFAULTS.horizon, { min: 1 }),
      maxIncidents: num(INCIDENT_DEFAULTS.maxIncidents, { integer: true, min: 1, max: MAX_STATE_CAP }),
    },
    /**
     * pcap on alert (Suricata pcap-log conditional: alerts): keep recent packets per flow and write those
     * behind each alert to DIR/alert-<id>.pcap (flows/packet-ring.ts, alerts/pcap-log.ts); off by default
     */
    pcap: {
      enabled: bool(false),
      /** directory of the pcap files; empty = next to the alert file (analyze -o, outputs.file.path), else the working directory */
      dir: str(''),
      ringBytes: num(RING_DEFAULTS.ringBytes, { integer: true, min: 1 }),
      flowPackets: num(RING_DEFAULTS.flowPackets, { integer: true, min: 1, max: 65536 }),
      flowBytes: num(RING_DEFAULTS.flowBytes, { integer: true, min: 1 }),
      snaplen: num(RING_DEFAULTS.snaplen, { integer: true, min: 1, max: 262144 }),
      flowsPerAlert: num(PCAP_LOG_DEFAULTS.flowsPerAlert, { integer: true, min: 1, max: 65536 }),
      fileBytes: num(PCAP_LOG_DEFAULTS.fileBytes, { integer: true, min: 64 }),
      maxFiles: num(PCAP_LOG_DEFAULTS.maxFiles, { integer: true, min: 1 }),
      totalBytes: num(PCAP_LOG_DEFAULTS.totalBytes, { integer: true, min: 64 }),
    },
  },
  detectors: {
    leaf: true,
    def: detectorDefaults,
    schema: () => shapeSchema(detectorsShape()),
    merge: (cur, over) => mergeShape(detectorsShape(), cur, over) as Record<string, DetectorSettings>,
  } as Leaf<Record<string, DetectorSettings>>,
} satisfies Shape;

export type Config = Infer<typeof CONFIG_SPEC>;
export type SyslogOutput = Infer<typeof SYSLOG_OUTPUT>;
export const SYSLOG_OUTPUT_DEFAULTS = defaultsOf(SYSLOG_OUTPUT) as SyslogOutput;

export function defaultConfig(): Config {
  return defaultsOf(CONFIG_SPEC) as Config;
}

/**
 * The caps left at their default, scaled to `limits.memoryMiB` (src/limits.ts):
 * flows.maxFlows, alerts.incidents.maxIncidents and every detector cap named
 * in detect/caps.ts (CAP_KEYS, also what the summary reports). A cap set to any
 * other value is the user's and is kept. At the default budget nothing changes.
 */
export function scaleCaps(cfg: Config): Config {
  const k = capScale(cfg.limits.memoryMiB);
  if (k === 1) return cfg;
  const def = defaultConfig();
  const scaled = (v: number, d: number): number => (v === d ? Math.min(MAX_STATE_CAP, Math.max(1000, Math.round(d * k))) : v);
  // the flow table by its own rule (FLOW_SHARE of the budget at FLOW_ENTRY_BYTES a flow)
  if (cfg.flows.maxFlows === def.flows.maxFlows) cfg.flows.maxFlows = Math.min(4 * MAX_STATE_CAP, flowsForBudget(cfg.limits.memoryMiB));
  cfg.alerts.incidents.maxIncidents = scaled(cfg.alerts.incidents.maxIncidents, def.alerts.incidents.maxIncidents);
  // the detector caps named in detect/caps.ts (not every max… key is a cap: beaconing's maxPeriod is seconds)
  for (const [name, d] of Object.entries(cfg.detectors)) {
    const dd = def.detectors[name] as Record<string, unknown> | undefined;
    if (dd === undefined) continue;
    const rec = d as unknown as Record<string, unknown>;
    for (const key of capKeysOf(name)) {
      const v = dd[key];
      if (typeof v === 'number' && typeof rec[key] === 'number') rec[key] = scaled(rec[key] as number, v);
    }
  }
  return cfg;
}

/** The configuration's JSON Schema (draft 2020-12), every key optional: what one layer may contain. */
export function configSchema(): SchemaObject {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'tapwatch configuration', ...shapeSchema(CONFIG_SPEC) };
}

// Compiling the whole schema costs ajv ~0.3 s of CPU at every start, so each
// top-level section (and each detector) is compiled on first use: a layer
// that sets one key compiles one small schema.
let ajv: Ajv2020 | null = null;
const compiled = new Map<string, ValidateFunction>();
function validatorFor(pointer: string, schema: () => SchemaObject): ValidateFunction {
  let v = compiled.get(pointer);
  if (!v) {
    if (!ajv) {
      ajv = new Ajv2020({ allErrors: false, verbose: true, strict: true });
      for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: (s: string) => check(s) === null });
    }
    v = ajv.compile(schema());
    compiled.set(pointer, v);
  }
  return v;
}

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const fakeError = (keyword: string, instancePath: string, params: Record<string, unknown>, data: unknown, parentSchema: SchemaObject): ErrorObject =>
  ({ keyword, instancePath, schemaPath: '', params, data, parentSchema }) as ErrorObject;

/** the first schema error in `layer`, or null; the same answer as validating against configSchema() */
function firstError(layer: unknown): ErrorObject | null {
  const objectAt = (pointer: string, x: unknown, keys: Record<string, unknown>): ErrorObject | null => {
    const parentSchema = { properties: keys };
    if (!isObject(x)) return fakeError('type', pointer, { type: 'object' }, x, parentSchema);
    const extra = Object.keys(x).find((k) => !Object.prototype.hasOwnProperty.call(keys, k));
    return extra === undefined ? null : fakeError('additionalProperties', pointer, { additionalProperty: extra }, x, parentSchema);
  };
  const check = (pointer: string, schema: () => SchemaObject, x: unknown): ErrorObject | null => {
    const v = validatorFor(pointer, schema);
    if (v(x)) return null;
    const e = (v.errors ?? []).find((y) => y.keyword === 'propertyNames') ?? v.errors?.[0];
    return e ? { ...e, instancePath: pointer + e.instancePath } : fakeError('invalid', pointer, {}, x, {});
  };
  const top = objectAt('', layer, CONFIG_SPEC);
  if (top) return top;
  for (const [k, x] of Object.entries(layer as Record<string, unknown>)) {
    const node = (CONFIG_SPEC as Shape)[k]!;
    if (k === 'detectors') {
      const shape = detectorsShape();
      const bad = objectAt('/detectors', x, shape);
      if (bad) return bad;
      for (const [name, d] of Object.entries(x as Record<string, unknown>)) {
        const e = check(`/detectors/${name}`, () => shapeSchema(shape[name] as Shape), d);
        if (e) return e;
      }
      continue;
    }
    const e = check(`/${k}`, () => (isLeaf(node) ? node.schema() : shapeSchema(node)), x);
    if (e) return e;
  }
  return null;
}

/** "/outputs/syslog/0/url" → "outputs.syslog[0].url" */
function keyPath(pointer: string, extra?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** the closest of `names` to `s` (edit distance ≤ 2), for "did you mean" */
function closest(s: string, names: readonly string[]): string | null {
  let best: string | null = null, bestD = 3;
  for (const n of names) {
    const d = editDistance(s.toLowerCase(), n.toLowerCase());
    if (d < bestD) { bestD = d; best = n; }
  }
  return best;
}
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** one line for ajv's first error: the key path, then what is wrong with the value */
function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const schema = e.parentSchema as SchemaObject | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const known = Object.keys((schema?.properties as object | undefined) ?? {});
      const near = closest(key, known);
      return `${keyPath(e.instancePath, key)}: unknown key${near ? ` (did you mean ${near}?)` : ''}`;
    }
    case 'propertyNames': {
      // ajv reports the name's enum error first, then propertyNames (preferred above): name the key, not the enum
      const key = String(p.propertyName);
      const kinds = ((schema?.propertyNames as SchemaObject | undefined)?.enum as string[] | undefined) ?? [];
      const near = closest(key, kinds);
      return `${keyPath(e.instancePath, key)}: no detector raises alerts of kind "${key}"${near ? ` (did you mean ${near}?)` : ''}; kinds: ${kinds.join(', ')}`;
    }
    case 'required':
      return `${keyPath(e.instancePath, String(p.missingProperty))}: missing (required)`;
    case 'type': {
      const t = String(p.type);
      const want = t === 'array' ? 'a list' : t === 'object' ? 'an object' : t === 'integer' ? 'an integer' : `a ${t}`;
      return `${keyPath(e.instancePath)}: expected ${want}, got ${show(e.data)}`;
    }
    case 'enum':
      return `${keyPath(e.instancePath)}: expected one of ${(e.schema as string[]).join(', ')}; got ${show(e.data)}`;
    case 'format':
      return `${keyPath(e.instancePath)}: ${FORMATS[String(p.format)]?.(String(e.data)) ?? `invalid ${String(p.format)}`}`;
    case 'minimum':
    case 'maximum':
      return `${keyPath(e.instancePath)}: expected a number ${e.keyword === 'minimum' ? '≥' : '≤'} ${String(p.limit)}, got ${show(e.data)}`;
    default:
      return `${keyPath(e.instancePath)}: ${e.message ?? 'invalid'} (got ${show(e.data)})`;
  }
}

/** Throws ConfigError (prefixed with where the value came from) unless `layer` is a valid (partial) configuration. */
export function validateLayer(layer: unknown, source = ''): void {
  const e = firstError(layer);
  if (!e) return;
  const msg = describe(e);
  throw new ConfigError(source ? `${source}: ${msg}` : msg);
}

/** One layer of configuration and where it came from (a file name, "--set k=v", "--log-level", "TAPWATCH_LOG_LEVEL"). */
export interface ConfigLayer { source: string; data: unknown }

/** Validates each layer, merges them over the defaults in order, and returns the effective configuration. */
export function resolveConfig(layers: readonly ConfigLayer[]): Config {
  const cfg = defaultConfig();
  for (const l of layers) mergeConfig(cfg, l.data, l.source);
  return scaleCaps(cfg);
}

/** Validates `over` (one layer) and deep-merges it into `base`. */
export function mergeConfig(base: Config, over: unknown, where = ''): Config {
  validateLayer(over, where);
  mergeShape(CONFIG_SPEC, base as unknown as Record<string, unknown>, over);
  return base;
}

export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : 'cannot read'}`);
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
  if (keys.some((k) => k === '')) throw new ConfigError(`--set ${expr}: empty key in "${expr.slice(0, eq)}"`);
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

/**
 * Every detector's tunables with their defaults, from the registry (analyze
 * --help): one block per detector, "key=default" items wrapped to `width`,
 * long lists shortened to their first entries and their length.
 */
export function detectorTunables(width = 96): string[] {
  const shown = (v: unknown): string =>
    Array.isArray(v) && v.length > 3 ? `[${v.slice(0, 2).map((x) => JSON.stringify(x)).join(',')},… ${v.length} entries]` : JSON.stringify(v);
  const lines: string[] = [];
  for (const s of DETECTORS) {
    lines.push(`${s.name}:`);
    let line = '   ';
    for (const [k, v] of Object.entries({ enabled: s.enabledByDefault ?? true, ...s.defaults })) {
      const item = ` ${k}=${shown(v)}`;
      if (line.length + item.length > width && line.trim()) { lines.push(line); line = '   '; }
      line += item;
    }
    lines.push(line);
  }
  return lines;
}
