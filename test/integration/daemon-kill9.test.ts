/**
 * `tapwatch run` killed with SIGKILL while its syslog target is down, then
 * started again on the same $STATE_DIRECTORY: the on-disk spool survives the
 * crash and is delivered after the restart, in order, nothing lost and
 * nothing delivered twice.
 *
 *   run 1: rsyslogd up, 2 alerts delivered directly; rsyslogd stopped (SIGTERM
 *          by PID), 3 alerts spooled (stats line says so, the spool file holds
 *          3 records); then `kill -9` of the daemon — no shutdown, no flush.
 *   run 2: same config, same STATE_DIRECTORY, rsyslogd still down: the daemon
 *          logs the 3 undelivered messages it found; 2 new alerts are spooled
 *          behind them; rsyslogd is started again on the same port.
 *   check: rsyslogd received the 7 alerts exactly once, in the order of the
 *          alert file (run 1's 5, then run 2's 2); the spool is empty after.
 *
 * Traffic: bursts of TCP connection attempts from distinct source addresses of
 * a network namespace, one event_rate alert each (the other detectors a burst
 * could trigger are disabled so counts are exact). Needs root, the capture
 * addon, rsyslogd and dist/; skipped with the reason printed otherwise.
 * Namespace, rsyslogd and both daemons (by PID) are removed in afterAll.
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
if (SKIP) console.log(`SKIP daemon kill -9: ${SKIP}`);

const BURST = 120; // connection attempts per source: > 50/s in one second of packet time

type SinkStats = Record<string, Record<string, number>>;

describe.skipIf(!!SKIP)('tapwatch run: kill -9 while the syslog target is down, restart on the same state directory', () => {
  let root = '';
  let ns: Netns;
  let rs: Rsyslog;
  const daemons: Daemon[] = [];
  let names: string[] = [];
  let next = 0; // next unused source address of ns.extra

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-kill9-'));
    names = await detectorNames();
    ns = Netns.create({ extraSources: 8 });
    rs = await Rsyslog.start(root);
  });

  afterAll(async () => {
    for (const d of daemons) d.kill();
    await rs?.stop();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  /** one burst per source, 250 ms apart; waits until each one's alert is in the file */
  const bursts = async (alerts: string, n: number): Promise<string[]> => {
    const srcs = ns.extra.slice(next, next + n);
    next += n;
    expect(srcs).toHaveLength(n);
    await burstEach(ns, srcs, alerts, BURST);
    return srcs;
  };

  /** tapwatch messages at rsyslog from the daemons started here: the src of each, in arrival order */
  const arrived = (): string[] => {
    const pids = new Set(daemons.map((d) => String(d.pid)));
    return rs.records().filter((r) => r.app === 'tapwatch' && pids.has(r.procid)).map((r) => Rsyslog.sd(r)?.src ?? '?');
  };

  it('the spool survives SIGKILL and is delivered once, in order, after the restart', async () => {
    const alerts = path.join(root, 'alerts.jsonl');
    const conf = path.join(root, 'tapwatch.json');
    const state = path.join(root, 'state');
    const sink = `syslog:tcp://127.0.0.1:${rs.tcpPort}`;
    const detectors = genericRulesOnly(names, 50);
    fs.writeFileSync(conf, JSON.stringify({
      capture: { interface: ns.hostIf },
      outputs: { file: { path: alerts }, syslog: [{ url: `tcp://127.0.0.1:${rs.tcpPort}` }] },
      daemon: { statsSchedule: '* * * * * *' },
      detectors,
    }));
    const start = (): Daemon => {
      const d = new Daemon({ args: ['-c', conf], env: { STATE_DIRECTORY: state } });
      daemons.push(d);
      return d;
    };

    // run 1
    const d1 = start();
    await d1.waitStarted();
    const direct = await bursts(alerts, 2);
    await until(() => arrived().length >= 2, 10_000, '2 alerts at rsyslog before the stop');
    await rs.stop();
    await d1.waitLog((l) => /target unavailable, spooling alerts/.test(l.msg), 10_000, 'the sink noticing rsyslog is gone');
    const spooled = await bursts(alerts, 3);
    await d1.waitLog((l) => l.msg === 'stats' && ((l.sinks as SinkStats)?.[sink]?.spooled ?? 0) >= 3, 5_000, '3 alerts spooled');
    const spoolFile = path.join(state, 'spool', fs.readdirSync(path.join(state, 'spool')).find((f) => f.endsWith('.spool'))!);
    const onDisk = (): string[] => fs.readFileSync(spoolFile, 'utf8').split('\n').filter(Boolean);
    expect(onDisk()).toHaveLength(3);

    d1.signal('SIGKILL');
    const e1 = await d1.waitExit();
    expect(e1.signal).toBe('SIGKILL');
    expect(d1.summary()).toBeNull(); // no shutdown ran: whatever is delivered later came from the disk
    // each spooled record is one whole syslog message naming its alert's source
    expect(onDisk().map((l) => spooled.find((s) => l.includes(`src="${s}"`)))).toEqual(spooled);

    // run 2: same state directory, rsyslogd still down
    const d2 = start();
    await d2.waitStarted();
    const found = await d2.waitLog((l) => /undelivered messages from an earlier run/.test(l.msg), 5_000, 'the spool of run 1 found');
    expect(found.messages).toBe(3);
    const later = await bursts(alerts, 2);
    await d2.waitLog((l) => l.msg === 'stats' && ((l.sinks as SinkStats)?.[sink]?.spooled ?? 0) >= 2, 5_000, "run 2's alerts spooled");
    expect(arrived()).toEqual(direct);

    await rs.start(); // same port, same output file
    const all = [...direct, ...spooled, ...later];
    await until(() => arrived().length >= all.length, 40_000, `${all.length} alerts at rsyslog after the restart`);
    await new Promise((r) => setTimeout(r, 500)); // would-be duplicates get a moment to show up

    const inFile = readAlerts(alerts).map((a) => String(a.src));
    expect(inFile).toEqual(all);
    expect(arrived()).toEqual(inFile); // exactly once, in order, across the crash
    // run 1's spooled alerts went out with run 1's PID (the message was built before the crash)
    const byPid = rs.records().filter((r) => r.app === 'tapwatch' && r.procid === String(d1.pid)).map((r) => Rsyslog.sd(r)?.src);
    expect(byPid).toEqual([...direct, ...spooled]);

    const stop = await d2.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    const final = d2.logs().find((l) => l.msg === 'summary') as { sinks?: SinkStats } | undefined;
    expect(final?.sinks?.[sink]).toMatchObject({ dropped: 0, spool_pending: 0 });
    expect(final?.sinks?.[sink]?.delivered).toBe(spooled.length + later.length);
    expect(fs.statSync(spoolFile).size).toBe(0); // everything acknowledged: truncated
    expect(arrived()).toEqual(inFile); // and nothing more at exit
  }, 60_000);
});
