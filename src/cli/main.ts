#!/usr/bin/env node
/**
 * tapwatch command line. User errors (bad flag, missing or unreadable file,
 * not a capture, bad config) print one line and exit 2 — never a stack trace.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { readFileSync } from 'node:fs';
import { analyze, UsageError } from './analyze.js';
import { run } from './run.js';
import { report } from './report.js';
import { ReportInputError } from '../report/read.js';
import { CaptureError } from '../capture/live.js';
import { PAYLOAD_FORMATS } from '../sinks/sink.js';
import { buildDetectors } from '../detect/index.js';
import { defaultConfig, mergeConfig, scaleCaps, loadConfigFile, parseSet, detectorTunables, ConfigError, SYSLOG_OUTPUT_DEFAULTS, LOG_LEVELS, type Config } from '../config.js';
import { applyHeapGrowth } from '../limits.js';
import { InputError } from '../capture/reader.js';
import { CidrError, CidrSet } from '../util/cidr.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function fail(msg: string): never {
  process.stderr.write(`tapwatch: ${msg}\n`);
  process.exit(2);
}

/** Detector thresholds that have their own flag (the rest: --set key.path=value or the config file). */
const THRESHOLD_FLAGS = {
  'size-ratio': { path: 'detectors.size_anomaly.ratio', describe: 'size_anomaly: flag a connection above this multiple of the window mean' },
  'size-k': { path: 'detectors.size_anomaly.k', describe: 'size_anomaly: flag above mean + k standard deviations' },
  'size-min-samples': { path: 'detectors.size_anomaly.minSamples', describe: 'size_anomaly: connections in the window before it judges' },
  'size-min-bytes': { path: 'detectors.size_anomaly.minBytes', describe: 'size_anomaly: never flag a connection smaller than this' },
  'size-window': { path: 'detectors.size_anomaly.window', describe: 'size_anomaly: window length, seconds of packet time' },
  'freq-threshold': { path: 'detectors.type_frequency.threshold', describe: 'type_frequency: share of the window (0..1) one event type may reach' },
  'freq-min-events': { path: 'detectors.type_frequency.minEvents', describe: 'type_frequency: events in the window before it judges' },
  'freq-window': { path: 'detectors.type_frequency.window', describe: 'type_frequency: window length, seconds' },
  'rate-max-per-second': { path: 'detectors.event_rate.maxPerSecond', describe: 'event_rate: events per second one source may produce' },
} as const;

/** the label a flag's value is reported under: the flag, or the environment variable it came from */
let flagSource: (flag: string) => string = (flag) => `--${flag}`;

/** yargs collects a repeated option into an array: the last one given wins */
const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * The effective configuration: defaults, then the file, then flags and
 * environment, then --set, each layer validated on its own (config.ts) so
 * the error names where the bad value came from and its key path.
 */
function buildConfig(argv: Record<string, unknown>): Config {
  const cfg = defaultConfig();
  const file = last(argv.config);
  if (typeof file === 'string') mergeConfig(cfg, loadConfigFile(undash(file)), undash(file));
  const layer = (flag: string, path: string, v: unknown): void => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ConfigError(`${flagSource(flag)}: expected a number`);
    mergeConfig(cfg, parseSet(`${path}=${JSON.stringify(v)}`), flagSource(flag));
  };
  const flag = (name: string, path: string, map: (v: unknown) => unknown = (v) => v): void => {
    const v = last(argv[name]);
    if (v !== undefined) layer(name, path, map(v));
  };
  // Live-capture and output flags (run): a one-off run needs no config file.
  flag('interface', 'capture.interface');
  flag('filter', 'capture.filter');
  flag('snaplen', 'capture.snaplen');
  flag('promisc', 'capture.promisc');
  flag('buffer-size', 'capture.bufferSize', (v) => (typeof v === 'number' ? Math.round(v * 1024 * 1024) : v));
  flag('uid-seed', 'flows.uidSeed');
  flag('workers', 'flows.workers');
  flag('pcap-on-alert', 'alerts.pcap.enabled');
  if (last(argv['pcap-dir']) !== undefined) { flag('pcap-dir', 'alerts.pcap.dir'); layer('pcap-dir', 'alerts.pcap.enabled', true); }
  if (argv._ && (argv._ as unknown[])[0] === 'run') {
    const payload = last(argv.payload) ?? 'json';
    const output = last(argv.output);
    if (typeof output === 'string' && output !== '') {
      if (undash(output) === '-') { layer('output', 'outputs.stdout.enabled', true); layer('payload', 'outputs.stdout.format', payload); }
      else { layer('output', 'outputs.file.path', undash(output)); layer('payload', 'outputs.file.format', payload); }
    }
    if (argv.stdout === true) { layer('stdout', 'outputs.stdout.enabled', true); layer('payload', 'outputs.stdout.format', payload); }
    const urls = Array.isArray(argv.syslog) ? argv.syslog : argv.syslog === undefined ? [] : [argv.syslog];
    if (urls.length) {
      // flags add destinations to the file's
      const added = urls.map((u) => ({
        ...SYSLOG_OUTPUT_DEFAULTS, url: String(u), protocol: last(argv['syslog-format']) ?? 'rfc5424',
        format: payload, facility: String(last(argv['syslog-facility']) ?? 'local5'),
      }));
      mergeConfig(cfg, { outputs: { syslog: [...cfg.outputs.syslog, ...added] } }, flagSource('syslog'));
    }
    flag('log-level', 'daemon.logLevel');
    flag('user', 'daemon.user');
    flag('metrics', 'daemon.metrics');
    flag('redis', 'outputs.redis.url');
    if (last(argv.redis) !== undefined && payload === 'ecs') layer('payload', 'outputs.redis.format', 'ecs');
    if (argv['redis-events'] === true) layer('redis-events', 'outputs.redis.events', true);
  }
  for (const [name, spec] of Object.entries(THRESHOLD_FLAGS)) flag(name, spec.path);
  const sets = argv.set;
  for (const s of Array.isArray(sets) ? sets : sets === undefined ? [] : [sets]) mergeConfig(cfg, parseSet(String(s)), `--set ${String(s)}`);
  // caps left at their defaults follow the memory budget (limits.memoryMiB)
  return scaleCaps(cfg);
}

/** yargs drops a bare "-" argument; carry it through as a placeholder and map it back. */
const DASH = '\u0000-';
const undash = (s: string): string => (s === DASH ? '-' : s);

/**
 * Options that may also come from the environment as TAPWATCH_<NAME> (e.g.
 * TAPWATCH_INTERFACE=eth1): a command-line flag wins. Only these names are
 * read, so an unrelated TAPWATCH_* variable can never turn into a flag.
 */
const ENV_OPTIONS: Record<string, readonly string[]> = {
  run: ['interface', 'filter', 'snaplen', 'buffer-size', 'output', 'syslog', 'syslog-format', 'syslog-facility', 'payload', 'config', 'log-level', 'metrics', 'user', 'redis'],
  analyze: ['config'],
};

function withEnv(args: string[]): string[] {
  const names = ENV_OPTIONS[args[0] ?? ''];
  if (!names) return args;
  const out = [...args];
  const fromEnv = new Map<string, string>();
  for (const n of names) {
    const envName = `TAPWATCH_${n.toUpperCase().replace(/-/g, '_')}`;
    const v = process.env[envName];
    if (v === undefined || v === '' || args.some((a) => a === `--${n}` || a.startsWith(`--${n}=`))) continue;
    out.push(`--${n}`, v);
    fromEnv.set(n, envName);
  }
  flagSource = (flag) => fromEnv.get(flag) ?? `--${flag}`;
  return out;
}

/** Everything `run` would reject at start, short of opening the capture and the outputs. */
function checkConfig(cfg: Config): void {
  buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet, 'network.homeNet') });
}

async function main(): Promise<void> {
  // the memory budget's other half: V8 collects before the old generation outgrows the live state (src/limits.ts)
  applyHeapGrowth();
  const cli = yargs(withEnv(hideBin(process.argv)).map((a) => (a === '-' ? DASH : a)))
    .scriptName('tapwatch')
    .version(VERSION)
    .strict()
    .command(
      'analyze <files..>',
      'analyze capture files (pcap or pcapng; "-" reads stdin) and report alerts',
      (y) => {
        let b = y
          .positional('files', { type: 'string', array: true, describe: 'capture files, or - for stdin' })
          .option('output', { alias: 'o', type: 'string', default: '-', describe: 'alert output file (- for stdout)' })
          .option('format', { alias: 'f', choices: ['json', 'text'] as const, default: 'json' as const, describe: 'alert output format: json (one line per alert, see --payload) or text (a list and the summary)' })
          .option('payload', { choices: PAYLOAD_FORMATS, describe: 'with --format json: line payload, as run writes it: json (tapwatch\'s own), ecs (Elastic Common Schema) or cef (ArcSight); default json' })
          .option('events', { alias: 'e', type: 'string', describe: 'write every decoded event as one JSON line to this file' })
          .option('summary-json', { type: 'string', describe: 'write the summary (counters, state caps and what each evicted) as one JSON object to this file (- for the alert output)' })
          .option('config', { alias: 'c', type: 'string', describe: 'configuration file (JSON)' })
          .option('set', { type: 'string', nargs: 1, describe: 'override a configuration key (repeatable): --set detectors.event_rate.maxPerSecond=1000' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary and no progress line on stderr' })
          .option('pcap-on-alert', { type: 'boolean', describe: 'keep recent packets per flow and write those behind each alert to alert-<id>.pcap next to the alert file (alerts.pcap.enabled)' })
          .option('pcap-dir', { type: 'string', describe: 'directory of the alert pcaps (alerts.pcap.dir; implies --pcap-on-alert)' })
          .option('report', { type: 'string', describe: 'also write a self-contained HTML report of the run (timeline, alerts and evidence, talkers, rates) to this file' })
          .option('sequential', { type: 'boolean', default: false, describe: 'read several files one after the other (default: merged by packet time, as one tap saw them)' })
          .option('uid-seed', { type: 'string', describe: 'seed of flow uids and alert ids (flows.uidSeed): the same seed over the same input gives the same ids; default random per run' })
          .option('workers', { type: 'number', describe: 'flow worker threads (flows.workers): 1 = single thread, 0 = one per core; the alerts are the same for any number' });
        for (const [flag, spec] of Object.entries(THRESHOLD_FLAGS)) b = b.option(flag, { type: 'number', describe: spec.describe, group: 'Detector thresholds:' });
        // every detector's tunables, from the registry's defaults, so --help never lags the code
        return b.epilog(`Detector tunables and their defaults (set with --set detectors.NAME.KEY=VALUE or in --config):\n${detectorTunables().map((l) => `  ${l}`).join('\n')}`);
      },
      async (argv) => {
        const config = buildConfig(argv as Record<string, unknown>);
        if (argv.payload !== undefined && argv.format === 'text') throw new UsageError('--payload applies to --format json (one line per alert); --format text prints a list for people');
        const code = await analyze({
          files: (argv.files ?? []).map((f) => undash(String(f))), output: undash(argv.output), format: argv.format,
          ...(argv.payload !== undefined ? { payload: argv.payload } : {}),
          ...(argv.events ? { events: undash(argv.events) } : {}),
          ...(argv.summaryJson !== undefined ? { summaryJson: undash(String(argv.summaryJson)) } : {}), config, quiet: argv.quiet, sequential: argv.sequential, version: VERSION,
          ...(argv.report ? { report: undash(argv.report) } : {}),
        });
        process.exitCode = code;
      },
    )
    .command(
      'run',
      'capture live from an interface and deliver alerts (the sensor daemon)',
      (y) => {
        let b = y
          .option('interface', { alias: 'i', type: 'string', describe: 'interface to capture on (or "any")' })
          .option('filter', { type: 'string', describe: 'BPF capture filter, e.g. "not port 22"' })
          .option('snaplen', { type: 'number', describe: 'bytes captured per packet (default 262144)' })
          .option('promisc', { type: 'boolean', describe: 'promiscuous mode (default on; --no-promisc)' })
          .option('buffer-size', { type: 'number', describe: 'kernel capture buffer in MiB (default 64)' })
          .option('output', { alias: 'o', type: 'string', describe: 'append alerts to this file (JSON lines; reopened on SIGHUP); - for stdout' })
          .option('stdout', { type: 'boolean', describe: 'also write alerts to stdout (journald)' })
          .option('syslog', { type: 'string', nargs: 1, describe: 'syslog destination: udp://host:port, tcp://host:port, unix:///dev/log, unix-stream:///path (repeatable)' })
          .option('syslog-format', { type: 'string', describe: 'syslog message format: rfc5424 (default) or rfc3164' })
          .option('syslog-facility', { type: 'string', describe: 'syslog facility (default local5)' })
          .option('payload', { type: 'string', describe: `alert payload for file, stdout and syslog: ${PAYLOAD_FORMATS.join(', ')} (default json)` })
          .option('config', { alias: 'c', type: 'string', describe: 'configuration file (JSON); SIGHUP re-reads it' })
          .option('set', { type: 'string', nargs: 1, describe: 'override a configuration key (repeatable)' })
          .option('log-level', { type: 'string', describe: `daemon log level (stderr, JSON): ${LOG_LEVELS.join(', ')}` })
          .option('user', { type: 'string', describe: 'started as root: drop to this user after opening the capture and the outputs (daemon.user)' })
          .option('redis', { type: 'string', describe: 'alerts to a Redis stream (XADD tapwatch:alerts): redis://host:port or unix:///path' })
          .option('redis-events', { type: 'boolean', describe: 'with --redis: every event too, to tapwatch:events' })
          .option('pcap-on-alert', { type: 'boolean', describe: 'keep recent packets per flow and write those behind each alert to alert-<id>.pcap next to the alert file (alerts.pcap.enabled)' })
          .option('pcap-dir', { type: 'string', describe: 'directory of the alert pcaps (alerts.pcap.dir; implies --pcap-on-alert)' })
          .option('metrics', { type: 'string', describe: 'serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (default off)' });
        for (const [flag, spec] of Object.entries(THRESHOLD_FLAGS)) b = b.option(flag, { type: 'number', describe: spec.describe, group: 'Detector thresholds:' });
        return b;
      },
      async (argv) => {
        const load = (): Config => buildConfig(argv as Record<string, unknown>);
        process.exitCode = await run({ loadConfig: load, version: VERSION });
      },
    )
    .command(
      'report <alerts> [events]',
      'write a self-contained HTML report (timeline, alerts by attacker and victim, evidence, talkers, rates) from an alert file and optionally the event log',
      (y) => y
        .positional('alerts', { type: 'string', describe: 'alert file (JSON lines, as analyze -o or run -o write it)' })
        .positional('events', { type: 'string', describe: 'event log (analyze -e): adds event counts, talkers and the event rate' })
        .option('output', { alias: 'o', type: 'string', default: 'report.html', describe: 'the HTML file to write (- for stdout)' })
        .option('title', { type: 'string', describe: 'page title (default: names the inputs)' }),
      async (argv) => {
        process.exitCode = await report({
          alerts: String(argv.alerts), output: undash(argv.output),
          ...(argv.events !== undefined ? { events: String(argv.events) } : {}), ...(argv.title !== undefined ? { title: argv.title } : {}),
        });
      },
    )
    .command(
      'check-config <file>',
      'validate a configuration file and print the effective configuration',
      (y) => y.positional('file', { type: 'string', describe: 'configuration file (JSON)' })
        .option('set', { type: 'string', nargs: 1, describe: 'override a configuration key (repeatable)' }),
      (argv) => {
        const cfg = buildConfig({ ...argv, config: argv.file } as Record<string, unknown>);
        checkConfig(cfg);
        process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
      },
    )
    .demandCommand(1, 'name a command: analyze, run, report or check-config')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      // yargs' own messages can span lines ("Invalid values:\n  Argument: …"): one line
      fail(`${msg.replace(/\s*\n\s*/g, ' ')} (see tapwatch --help)`);
    });
  await cli.parseAsync();
}

main().catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof InputError || e instanceof ConfigError || e instanceof CidrError || e instanceof CaptureError || e instanceof ReportInputError) fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.syscall) fail(`${err.path ?? ''}${err.path ? ': ' : ''}${err.message}`);
  // A bug, not a user error: say so plainly, keep the trace for the report.
  process.stderr.write(`tapwatch: internal error: ${err?.stack ?? String(e)}\n`);
  process.exit(70);
});
