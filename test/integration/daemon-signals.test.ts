/**
 * `tapwatch run` signals, against the built daemon capturing on a veth pair:
 *
 * - SIGHUP re-reads the configuration file: a burst under a very high
 *   event_rate threshold raises nothing; the file is rewritten with a low
 *   threshold, SIGHUP, the same burst raises the alert. The "configuration
 *   reloaded" log line says which detectors kept their state.
 * - A configuration rejected on SIGHUP (bad JSON, a bad HOME_NET CIDR) is
 *   logged and the running one kept: the daemon stays up and keeps working.
 * - SIGHUP reopens the alert file: after a logrotate-style rename
 *   (alerts.jsonl → alerts.jsonl.1) the next alert goes to a new alerts.jsonl.
 * - SIGTERM: exit 0, the summary printed, every alert raised is in the files.
 *
 * Traffic: bounded bursts of TCP connection attempts from a network namespace
 * (distinct source addresses so each burst is a new alert). Other detectors
 * that a burst could trigger are disabled in the config so the counts are
 * exact. Needs root, the capture addon and dist/; skipped with the reason
 * printed otherwise. Namespace and daemon are removed in afterAll.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP } from '../helpers/netns.js';
import { until } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, detectorNames, genericRulesOnly, type LogLine } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const avail = captureAvailable();
const SKIP = !IS_ROOT
  ? 'not running as root (creates a network namespace; live capture needs CAP_NET_RAW)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP daemon signals: ${SKIP}`);

const BURST = 150; // connection attempts per burst, all within well under a second

describe.skipIf(!!SKIP)('tapwatch run: SIGHUP reload and reopen, SIGTERM', () => {
  let root = '';
  let ns: Netns;
  let d: Daemon | undefined;
  let conf = '';
  let alerts = '';
  let names: string[] = [];

  const writeConfig = (maxPerSecond: number, extra: Record<string, unknown> = {}): void => {
    // only event_rate may fire on a burst; size_anomaly and type_frequency cannot at these volumes
    const detectors = genericRulesOnly(names, maxPerSecond);
    const cfg = {
      capture: { interface: ns.hostIf },
      outputs: { file: { path: alerts } },
      daemon: { statsSchedule: '* * * * * *' },
      detectors,
      ...extra,
    };
    fs.writeFileSync(conf + '.tmp', JSON.stringify(cfg, null, 2));
    fs.renameSync(conf + '.tmp', conf);
  };

  /** waits until the daemon has seen at least `n` tcp_syn events (stats line, once a second) */
  const waitSyns = (n: number): Promise<LogLine> =>
    d!.waitLog((l) => l.msg === 'stats' && ((l.events as Record<string, number>)?.tcp_syn ?? 0) >= n, 10_000, `${n} tcp_syn events in a stats line`);

  /** SIGHUP and wait for the outcome logged after it */
  const hup = async (expect: 'configuration reloaded' | RegExp): Promise<LogLine> => {
    const after = d!.logs().length;
    d!.signal('SIGHUP');
    return d!.waitLog(
      (l) => (typeof expect === 'string' ? l.msg === expect : expect.test(l.msg)),
      10_000,
      `"${String(expect)}" after SIGHUP`,
      after,
    );
  };

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-signals-'));
    conf = path.join(root, 'tapwatch.json');
    alerts = path.join(root, 'alerts.jsonl');
    names = await detectorNames();
    ns = Netns.create({ extraSources: 2 });
    writeConfig(100_000);
    d = new Daemon({ args: ['-c', conf], env: { STATE_DIRECTORY: path.join(root, 'state') } });
    await d.waitStarted();
  });

  afterAll(async () => {
    d?.kill();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('SIGHUP applies a new threshold from the rewritten config file, keeping unchanged detectors', async () => {
    const b1 = await ns.connectBurst({ sources: [ns.nsIp], count: BURST, portFrom: 2000 });
    expect(b1.attempts).toBe(BURST);
    await waitSyns(BURST);
    expect(readAlerts(alerts)).toEqual([]); // threshold 100000/s: nothing

    writeConfig(50);
    const reloaded = await hup('configuration reloaded');
    const kept = reloaded.detectors_kept as string[];
    const rebuilt = reloaded.detectors_rebuilt as string[];
    console.log(`daemon signals: after the threshold change kept=${JSON.stringify(kept)} rebuilt=${JSON.stringify(rebuilt)}`);
    // unchanged settings: state kept
    expect(kept).toEqual(expect.arrayContaining(['size_anomaly', 'type_frequency']));
    // event_rate's settings changed: kept when it can take them in place (reconfigure), else rebuilt; never dropped
    expect([...kept, ...rebuilt].sort()).toEqual(['event_rate', 'size_anomaly', 'type_frequency']);

    const b2 = await ns.connectBurst({ sources: [ns.nsIp], count: BURST, portFrom: 3000 });
    expect(b2.attempts).toBe(BURST);
    await until(() => readAlerts(alerts).some((a) => a.kind === 'event_rate' && a.src === ns.nsIp), 10_000, 'event_rate alert after the reload');
    const a = readAlerts(alerts).filter((x) => x.kind === 'event_rate');
    expect(a).toHaveLength(1);
    expect((a[0]!.evidence as Record<string, unknown>).threshold_per_s).toBe(50);
  });

  it('a configuration rejected on SIGHUP (bad JSON, bad HOME_NET) is logged; the daemon keeps running with the old one', async () => {
    fs.writeFileSync(conf, '{ "capture": { "interface": ');
    const bad1 = await hup(/^reload failed/);
    expect(String(bad1.err)).toMatch(/not valid JSON/);
    expect(d!.running).toBe(true);

    writeConfig(50, { network: { homeNet: ['10.0.0.0/33'] } });
    const bad2 = await hup(/^reload failed/);
    expect(String(bad2.err)).toMatch(/homeNet|10\.0\.0\.0\/33/);
    await new Promise((r) => setTimeout(r, 300));
    expect(d!.running, d!.stderr.slice(-2000)).toBe(true);

    writeConfig(50); // back to the good one for what follows
    await hup('configuration reloaded');
  });

  it('SIGHUP after a logrotate-style rename: the next alert goes to a new alerts.jsonl', async () => {
    fs.renameSync(alerts, alerts + '.1');
    const r = await hup('configuration reloaded');
    expect(r.detectors_rebuilt).toEqual([]); // settings unchanged: all state kept
    expect(fs.existsSync(alerts)).toBe(true); // reopened: created anew

    const src = ns.extra[0]!;
    const b3 = await ns.connectBurst({ sources: [src], count: BURST, portFrom: 4000 });
    expect(b3.attempts).toBe(BURST);
    await until(() => readAlerts(alerts).some((a) => a.src === src), 10_000, `event_rate alert for ${src} in the new alerts.jsonl`);
    expect(readAlerts(alerts).map((a) => a.src)).toEqual([src]);
    expect(readAlerts(alerts + '.1').map((a) => a.src)).toEqual([ns.nsIp]);
  });

  it('SIGTERM: exit 0, summary printed, every alert raised is in the files', async () => {
    const stop = await d!.stop('SIGTERM', 10_000);
    expect(stop.timedOut).toBe(false);
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(5_000);
    const s = d!.summary();
    expect(s, d!.stderr.slice(-3000)).not.toBeNull();
    expect(s!.capture).not.toBeNull();
    expect(s!.alertsByKind).toEqual({ event_rate: 2 });
    const total = readAlerts(alerts).length + readAlerts(alerts + '.1').length;
    expect(total).toBe(2);
    expect(s!.alertsWritten).toBe(total);
    expect(s!.eventsByType.tcp_syn).toBeGreaterThanOrEqual(3 * BURST);
  });
});
