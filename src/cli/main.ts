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
import { CaptureError } from '../capture/live.js';
import { validateOutputs } from '../sinks/from-config.js';
import { defaultConfig, mergeConfig, loadConfigFile, parseSet, ConfigError, type Config } from '../config.js';
import { InputError } from '../capture/reader.js';
import { CidrError } from '../util/cidr.js';

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

function buildConfig(argv: Record<string, unknown>): Config {
  const cfg = defaultConfig();
  if (typeof argv.config === 'string') mergeConfig(cfg, loadConfigFile(undash(argv.config)), '');
  // Live-capture and output flags (run): a one-off run needs no config file.
  const set = (path: string, v: unknown): void => { mergeConfig(cfg, parseSet(`${path}=${JSON.stringify(v)}`)); };
  if (typeof argv.interface === 'string') set('capture.interface', argv.interface);
  if (typeof argv.filter === 'string') set('capture.filter', argv.filter);
  if (typeof argv.snaplen === 'number') set('capture.snaplen', argv.snaplen);
  if (typeof argv.promisc === 'boolean') set('capture.promisc', argv.promisc);
  if (typeof argv['buffer-size'] === 'number') set('capture.bufferSize', argv['buffer-size'] * 1024 * 1024);
  if (argv._ && (argv._ as unknown[])[0] === 'run') {
    if (typeof argv.output === 'string' && argv.output !== '') {
      if (undash(argv.output) === '-') { set('outputs.stdout.enabled', true); set('outputs.stdout.format', argv.payload ?? 'json'); }
      else { set('outputs.file.path', undash(argv.output)); set('outputs.file.format', argv.payload ?? 'json'); }
    }
    if (argv.stdout === true) { set('outputs.stdout.enabled', true); set('outputs.stdout.format', argv.payload ?? 'json'); }
    const urls = Array.isArray(argv.syslog) ? argv.syslog : argv.syslog === undefined ? [] : [argv.syslog];
    if (urls.length) {
      cfg.outputs.syslog.push(...urls.map((u) => ({
        url: String(u), protocol: (argv['syslog-format'] as 'rfc5424' | 'rfc3164' | undefined) ?? 'rfc5424',
        format: String(argv.payload ?? 'json'), facility: String(argv['syslog-facility'] ?? 'local5'), appName: 'tapwatch',
        hostname: '', spoolDir: '', spoolMaxBytes: 64 * 1024 * 1024,
      })));
    }
    if (typeof argv['log-level'] === 'string') set('daemon.logLevel', argv['log-level']);
    if (typeof argv.metrics === 'string') set('daemon.metrics', argv.metrics);
  }
  for (const [flag, spec] of Object.entries(THRESHOLD_FLAGS)) {
    const v = argv[flag];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`--${flag}: expected a number`);
    mergeConfig(cfg, parseSet(`${spec.path}=${v}`));
  }
  const sets = argv.set;
  for (const s of Array.isArray(sets) ? sets : sets === undefined ? [] : [sets]) mergeConfig(cfg, parseSet(String(s)));
  return cfg;
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
  run: ['interface', 'filter', 'snaplen', 'buffer-size', 'output', 'syslog', 'syslog-format', 'syslog-facility', 'payload', 'config', 'log-level', 'metrics'],
  analyze: ['config'],
};

function withEnv(args: string[]): string[] {
  const names = ENV_OPTIONS[args[0] ?? ''];
  if (!names) return args;
  const out = [...args];
  for (const n of names) {
    const v = process.env[`TAPWATCH_${n.toUpperCase().replace(/-/g, '_')}`];
    if (v === undefined || v === '' || args.some((a) => a === `--${n}` || a.startsWith(`--${n}=`))) continue;
    out.push(`--${n}`, v);
  }
  return out;
}

async function main(): Promise<void> {
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
          .option('format', { alias: 'f', choices: ['json', 'text'] as const, default: 'json' as const, describe: 'alert output format' })
          .option('events', { alias: 'e', type: 'string', describe: 'write every decoded event as one JSON line to this file' })
          .option('config', { alias: 'c', type: 'string', describe: 'configuration file (JSON)' })
          .option('set', { type: 'string', array: true, describe: 'override a configuration key: --set detectors.event_rate.maxPerSecond=1000' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no summary and no progress line on stderr' })
          .option('sequential', { type: 'boolean', default: false, describe: 'read several files one after the other (default: merged by packet time, as one tap saw them)' });
        for (const [flag, spec] of Object.entries(THRESHOLD_FLAGS)) b = b.option(flag, { type: 'number', describe: spec.describe, group: 'Detector thresholds:' });
        return b;
      },
      async (argv) => {
        const config = buildConfig(argv as Record<string, unknown>);
        const code = await analyze({
          files: (argv.files ?? []).map((f) => undash(String(f))), output: undash(argv.output), format: argv.format,
          ...(argv.events ? { events: undash(argv.events) } : {}), config, quiet: argv.quiet, sequential: argv.sequential, version: VERSION,
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
          .option('syslog', { type: 'string', array: true, describe: 'syslog destination: udp://host:port, tcp://host:port, unix:///dev/log, unix-stream:///path (repeatable)' })
          .option('syslog-format', { choices: ['rfc5424', 'rfc3164'] as const, describe: 'syslog message format (default rfc5424)' })
          .option('syslog-facility', { type: 'string', describe: 'syslog facility (default local5)' })
          .option('payload', { choices: ['json', 'ecs', 'cef'] as const, describe: 'alert payload for file, stdout and syslog (default json)' })
          .option('config', { alias: 'c', type: 'string', describe: 'configuration file (JSON); SIGHUP re-reads it' })
          .option('set', { type: 'string', array: true, describe: 'override a configuration key' })
          .option('log-level', { choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, describe: 'daemon log level (stderr, JSON)' })
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
      'check-config <file>',
      'validate a configuration file and print the effective configuration',
      (y) => y.positional('file', { type: 'string', describe: 'configuration file (JSON)' })
        .option('set', { type: 'string', array: true, describe: 'override a configuration key' }),
      (argv) => {
        const cfg = buildConfig({ ...argv, config: argv.file } as Record<string, unknown>);
        validateOutputs(cfg);
        process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
      },
    )
    .demandCommand(1, 'name a command: analyze, run or check-config')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      fail(`${msg} (see tapwatch --help)`);
    });
  await cli.parseAsync();
}

main().catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof InputError || e instanceof ConfigError || e instanceof CidrError || e instanceof CaptureError) fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.syscall) fail(`${err.path ?? ''}${err.path ? ': ' : ''}${err.message}`);
  // A bug, not a user error: say so plainly, keep the trace for the report.
  process.stderr.write(`tapwatch: internal error: ${err?.stack ?? String(e)}\n`);
  process.exit(70);
});
