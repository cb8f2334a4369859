/**
 * `tapwatch run` → syslog over TCP while the server goes away: the built
 * daemon captures on a veth pair and sends alerts to a real rsyslogd; the
 * rsyslogd is stopped mid-run (SIGTERM by PID), alerts keep coming (bursts
 * of connection attempts from distinct source addresses of a network
 * namespace, one event_rate alert each), they are spooled under
 * $STATE_DIRECTORY/spool, rsyslogd is started again on the same port, and
 * every alert arrives exactly once and in the order of the alert file.
 * The second case does the same with a SIGHUP (configuration reload) while
 * the server is down and alerts sit in the spool.
 *
 * Needs root, the capture addon, rsyslogd and dist/; skipped with the reason
 * printed otherwise. Namespace, rsyslogd and daemon are removed in afterAll.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP } from '../helpers/netns.js';
import { Rsyslog, HAVE_RSYSLOGD, until } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, detectorNames, genericRulesOnly, burstEach } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const avail = captureAvailable();
const SKIP = !IS_ROOT
  ? 'not running as root (creates a network namespace; live capture needs CAP_NET_RAW)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !HAVE_RSYSLOGD ? 'rsyslogd not found (apt-get install rsyslog)'
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP daemon spool: ${SKIP}`);

const BURST = 120; // connection attempts per source: > 50/s in one second of packet time

describe.skipIf(!!SKIP)('tapwatch run: syslog TCP target stopped and restarted mid-run', () => {
  let root = '';
  let ns: Netns;
  let rs: Rsyslog;
  let d: Daemon | undefined;
  let names: string[] = [];
  let next = 0; // next unused source address of ns.extra

  const start = (tag: string): { alerts: string; conf: string; daemon: Daemon } => {
    const alerts = path.join(root, `alerts-${tag}.jsonl`);
    const conf = path.join(root, `tapwatch-${tag}.json`);
    const detectors = genericRulesOnly(names, 50);
    fs.writeFileSync(conf, JSON.stringify({
      capture: { interface: ns.hostIf },
      outputs: { file: { path: alerts }, syslog: [{ url: `tcp://127.0.0.1:${rs.tcpPort}` }] },
      daemon: { statsSchedule: '* * * * * *' },
      detectors,
    }));
    const daemon = new Daemon({ args: ['-c', conf], env: { STATE_DIRECTORY: path.join(root, `state-${tag}`) } });
    return { alerts, conf, daemon };
  };

  /** one burst per source, 250 ms apart; waits until each one's alert is in the file */
  const bursts = async (alerts: string, n: number): Promise<string[]> => {
    const srcs = ns.extra.slice(next, next + n);
    next += n;
    expect(srcs).toHaveLength(n);
    await burstEach(ns, srcs, alerts, BURST);
    return srcs;
  };

  /** tapwatch messages at rsyslog from daemon `pid`: the src of each, in arrival order */
  const arrived = (pid: number): string[] =>
    rs.records().filter((r) => r.app === 'tapwatch' && r.procid === String(pid)).map((r) => Rsyslog.sd(r)?.src ?? '?');

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-spool-'));
    names = await detectorNames();
    ns = Netns.create({ extraSources: 20 });
    rs = await Rsyslog.start(root);
  });

  afterAll(async () => {
    d?.kill();
    await rs?.stop();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  const scenario = async (tag: string, hupWhileDown: boolean): Promise<void> => {
    if (!rs.proc) await rs.start();
    const { alerts, daemon } = start(tag);
    d = daemon;
    await daemon.waitStarted();
    const sink = `syslog:tcp://127.0.0.1:${rs.tcpPort}`;

    const before = await bursts(alerts, 3);
    await until(() => arrived(daemon.pid).length >= 3, 10_000, '3 alerts at rsyslog before the stop');

    await rs.stop();
    await daemon.waitLog((l) => /target unavailable, spooling alerts/.test(l.msg), 10_000, 'the sink noticing rsyslog is gone');
    const during = await bursts(alerts, 3);
    const st = await daemon.waitLog(
      (l) => l.msg === 'stats' && ((l.sinks as Record<string, Record<string, number>>)?.[sink]?.spooled ?? 0) >= 3,
      5_000,
      '3 alerts spooled',
    );
    expect((st.sinks as Record<string, Record<string, number>>)[sink]!.dropped).toBe(0);
    const spoolDir = path.join(root, `state-${tag}`, 'spool');
    expect(fs.readdirSync(spoolDir).some((f) => f.endsWith('.spool') && fs.statSync(path.join(spoolDir, f)).size > 0)).toBe(true);

    if (hupWhileDown) {
      const n = daemon.logs().length;
      daemon.signal('SIGHUP');
      await daemon.waitLog((l) => l.msg === 'configuration reloaded', 10_000, 'reload while rsyslog is down', n);
      during.push(...(await bursts(alerts, 2)));
    }

    await rs.start(); // same ports, same output file
    const after = await bursts(alerts, 3);
    const all = [...before, ...during, ...after];
    await until(() => arrived(daemon.pid).length >= all.length, 40_000, `${all.length} alerts at rsyslog after the restart`);
    await new Promise((r) => setTimeout(r, 500)); // would-be duplicates get a moment to show up

    const inFile = readAlerts(alerts).map((a) => String(a.src));
    expect(inFile).toEqual(all);
    expect(arrived(daemon.pid)).toEqual(inFile); // exactly once, in order

    const stop = await daemon.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    const s = daemon.summary();
    expect(s!.alertsWritten).toBe(all.length);
    const final = daemon.logs().find((l) => l.msg === 'summary') as { sinks?: Record<string, Record<string, number>> } | undefined;
    expect(final?.sinks?.[sink]).toMatchObject({ dropped: 0 });
    expect(daemon.logs().some((l) => /reconnected, delivering spooled alerts/.test(l.msg))).toBe(true);
    expect(arrived(daemon.pid)).toEqual(inFile); // and nothing more at exit
  };

  it('every alert arrives exactly once, in order', () => scenario('plain', false), 60_000);

  it('the same with a SIGHUP while the server is down and alerts are spooled', () => scenario('hup', true), 60_000);
});
