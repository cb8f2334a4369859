/**
 * Bad configuration through the real CLI: every entry point (a file given to
 * check-config, analyze and run, --set, TAPWATCH_* environment) reports one
 * line naming the source and the key path, exits 2, never 70 and never a
 * stack trace — so systemd (RestartPreventExitStatus=2) does not restart a
 * misconfigured sensor in a loop.
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pcapFile, ethernet, ipv4Packet, tcp } from '../helpers/craft.js';
import { detectorNames } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-cfg-'));

/** the CLI as a child process (async, so the test worker stays responsive on a loaded machine) */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } }, (e, out, err) => {
      done({ code: e ? ((e as { code?: unknown }).code as number | null) ?? null : 0, out, err });
    });
  });
}
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const oneLine = (s: string): boolean => s.trim().split('\n').length === 1 && !/\n\s+at |internal error/.test(s);

const PCAP = join(dir, 'one.pcap');
writeFileSync(PCAP, pcapFile([{ sec: 1700000000, frac: 0, data: ethernet(ipv4Packet('10.1.0.1', '10.1.0.2', 6, tcp(4000, 80, 0x02, [], 1))) }]));
const EMPTY = join(dir, 'empty.json');
writeFileSync(EMPTY, '{}');

/** each defect of issues 8/10: the configuration, the same value as --set, and what the error must say */
const CASES: Array<{ name: string; config: object; set: string; error: RegExp }> = [
  { name: 'a HOME_NET entry that is not a CIDR', config: { network: { homeNet: ['banana'] } }, set: 'network.homeNet=["banana"]', error: /network\.homeNet\[0\]: "banana" is not an IPv4\/IPv6 address or CIDR prefix/ },
  { name: 'a prefix length over 32', config: { network: { homeNet: ['10.0.0.0/33'] } }, set: 'network.homeNet=["10.0.0.0/33"]', error: /network\.homeNet\[0\]: "10\.0\.0\.0\/33" is not/ },
  { name: 'an unknown output format', config: { outputs: { file: { path: join(dir, 'a.jsonl'), format: 'xml' } } }, set: 'outputs.file.format=xml', error: /outputs\.file\.format: expected one of json, ecs, cef.*got "xml"/ },
  { name: 'an invalid cron string', config: { daemon: { statsSchedule: 'every minute' } }, set: 'daemon.statsSchedule=every minute', error: /daemon\.statsSchedule: "every minute" is not a valid cron expression/ },
  { name: 'a per-kind key no detector raises', config: { alerts: { perKind: { port_scna: 60 } } }, set: 'alerts.perKind.port_scna=60', error: /alerts\.perKind\.port_scna: no detector raises alerts of kind "port_scna" \(did you mean port_scan\?\)/ },
  { name: 'an invalid log level', config: { daemon: { logLevel: 'loud' } }, set: 'daemon.logLevel=loud', error: /daemon\.logLevel: expected one of fatal, error, warn, info, debug, trace; got "loud"/ },
  { name: 'a misspelt detector key', config: { detectors: { port_scan: { fastPort: 3 } } }, set: 'detectors.port_scan.fastPort=3', error: /detectors\.port_scan\.fastPort: unknown key \(did you mean fastPorts\?\)/ },
  { name: 'a CIDR allow-list entry of a detector', config: { detectors: { host_sweep: { allow: ['1.2.3'] } } }, set: 'detectors.host_sweep.allow=["1.2.3"]', error: /detectors\.host_sweep\.allow\[0\]: "1\.2\.3" is not/ },
  { name: 'a syslog destination without url', config: { outputs: { syslog: [{ protocol: 'rfc3164' }] } }, set: 'outputs.syslog=[{"protocol":"rfc3164"}]', error: /outputs\.syslog\[0\]\.url: missing/ },
  { name: 'a negative number', config: { flows: { timeouts: { udp: -1 } } }, set: 'flows.timeouts.udp=-1', error: /flows\.timeouts\.udp: expected a number ≥ 0, got -1/ },
];

function expectConfigError(r: { code: number | null; err: string }, source: RegExp, error: RegExp): void {
  expect(r.err).toMatch(source);
  expect(r.err).toMatch(error);
  expect(oneLine(r.err)).toBe(true);
  expect(r.code).toBe(2);
}

describe('configuration errors: one line naming the key, exit 2, from every entry point', () => {
  for (const c of CASES) {
    it(`${c.name}: in a file (check-config) and as --set (run)`, async () => {
      const f = join(dir, `${c.name.replace(/\W+/g, '-')}.json`);
      writeFileSync(f, JSON.stringify(c.config));
      const [a, b] = await Promise.all([cli(['check-config', f]), cli(['run', '-i', 'lo', '--set', c.set])]);
      expectConfigError(a, new RegExp(`^tapwatch: ${esc(f)}: `), c.error);
      expectConfigError(b, new RegExp(`^tapwatch: --set ${esc(c.set)}: `), c.error);
    });
  }

  // Every entry point reads the configuration through one validator; pin each with the log level that used to crash run (exit 70).
  it('the same bad value is rejected alike by check-config, analyze and run, from a file, TAPWATCH_CONFIG and --set', async () => {
    const f = join(dir, 'loud.json');
    writeFileSync(f, JSON.stringify({ daemon: { logLevel: 'loud' } }));
    const error = /daemon\.logLevel: expected one of fatal, error, warn, info, debug, trace; got "loud"/;
    const inFile = new RegExp(`^tapwatch: ${esc(f)}: `);
    const bySet = /^tapwatch: --set daemon\.logLevel=loud: /;
    const rs = await Promise.all([
      cli(['analyze', '--config', f, PCAP]), cli(['run', '--config', f, '-i', 'lo']), cli(['run', '-i', 'lo'], { TAPWATCH_CONFIG: f }),
      cli(['check-config', EMPTY, '--set', 'daemon.logLevel=loud']), cli(['analyze', '--set', 'daemon.logLevel=loud', PCAP]),
    ]);
    rs.forEach((r, i) => expectConfigError(r, i < 3 ? inFile : bySet, error));
  });

  it('a flag or its TAPWATCH_* variable with a bad value names that flag or variable', async () => {
    const level = /daemon\.logLevel: expected one of/;
    const rs = await Promise.all([
      cli(['run', '-i', 'lo', '--log-level', 'loud']), cli(['run', '-i', 'lo'], { TAPWATCH_LOG_LEVEL: 'loud' }),
      cli(['run', '-i', 'lo', '-o', join(dir, 'x'), '--payload', 'xml']), cli(['run', '-i', 'lo', '--syslog', 'ftp://x']),
      cli(['run', '-i', 'lo'], { TAPWATCH_SNAPLEN: 'lots' }), cli(['run', '-i', 'lo', '--snaplen', '10']), cli(['analyze', '--size-ratio', '-3', PCAP]),
    ]);
    expectConfigError(rs[0]!, /^tapwatch: --log-level: /, level);
    expectConfigError(rs[1]!, /^tapwatch: TAPWATCH_LOG_LEVEL: /, level);
    expectConfigError(rs[2]!, /^tapwatch: --payload: /, /outputs\.file\.format: expected one of/);
    expectConfigError(rs[3]!, /^tapwatch: --syslog: /, /outputs\.syslog\[0\]\.url: .*unknown transport "ftp"/);
    expectConfigError(rs[4]!, /^tapwatch: TAPWATCH_SNAPLEN: /, /expected a number/);
    expectConfigError(rs[5]!, /^tapwatch: --snaplen: /, /capture\.snaplen: expected a number ≥ 64, got 10/);
    expectConfigError(rs[6]!, /^tapwatch: --size-ratio: /, /detectors\.size_anomaly\.ratio: expected a number ≥ 0/);
  });

  it('a configuration that is not JSON, or not an object, is one line too', async () => {
    const f = join(dir, 'broken.json'), g = join(dir, 'list.json');
    writeFileSync(f, '{"daemon": ');
    writeFileSync(g, '[1]');
    const [a, b] = await Promise.all([cli(['check-config', f]), cli(['analyze', '--config', g, PCAP])]);
    expectConfigError(a, /broken\.json: /, /not valid JSON/);
    expectConfigError(b, /list\.json: /, /\(top level\): expected an object/);
  });

  it('check-config prints every key with its default', async () => {
    const r = await cli(['check-config', EMPTY]);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out) as { daemon: { logLevel: string; user: string }; detectors: Record<string, unknown> };
    expect(cfg.daemon.logLevel).toBe('info');
    expect(cfg.daemon.user).toBe('');
  });
});

describe('--set key=value and positional arguments', () => {
  it('--set does not swallow the capture file that follows it', async () => {
    const r = await cli(['analyze', '--set', 'detectors.event_rate.maxPerSecond=1000', PCAP, '-q']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
  it('--set is repeatable and later ones win', async () => {
    const r = await cli(['check-config', EMPTY, '--set', 'alerts.suppression=10', '--set', 'alerts.updateEvery=5', '--set', 'alerts.suppression=20']);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out) as { alerts: { suppression: number; updateEvery: number } };
    expect(cfg.alerts).toMatchObject({ suppression: 20, updateEvery: 5 });
  });
});

describe('analyze --help', () => {
  it('lists every registered detector and each of its tunables with the default', async () => {
    const r = await cli(['analyze', '--help']);
    expect(r.code).toBe(0);
    const mod = (await import(join(ROOT, 'dist/detect/index.js'))) as { DETECTORS: Array<{ name: string; defaults: Record<string, unknown> }> };
    expect(mod.DETECTORS.map((d) => d.name)).toEqual(await detectorNames());
    for (const d of mod.DETECTORS) {
      expect(r.out).toContain(`${d.name}:`);
      for (const [k, v] of Object.entries(d.defaults)) {
        if (typeof v === 'number' || typeof v === 'boolean') expect(r.out).toContain(` ${k}=${String(v)}`);
        else expect(r.out).toContain(` ${k}=`);
      }
    }
  });
});

describe('exit 2 and the systemd unit', () => {
  // A configuration error cannot be fixed by restarting: the unit must not restart on 2, and must on other failures.
  it('tapwatch.service restarts on failure except exit 2, and run exits 2 for a bad config or a missing interface', async () => {
    const unit = (await import('node:fs')).readFileSync(join(ROOT, 'systemd/tapwatch.service'), 'utf8');
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    const bad = await cli(['run', '-i', 'lo', '--set', 'daemon.logLevel=loud']);
    expect(bad.code).toBe(2);
    if (!captureAvailable().ok) return; // without the addon or CAP_NET_RAW the message is about those (live-capture.test.ts)
    const noIf = await cli(['run', '-i', 'tw-nosuch0']);
    expect(noIf.code).toBe(2);
    expect(noIf.err.trim().split('\n').filter((l) => l.startsWith('tapwatch:'))).toEqual([expect.stringMatching(/no such interface 'tw-nosuch0'/)]);
  });
});
