/**
 * `tapwatch run` while its capture interface goes away and comes back (the
 * host end of a veth pair into a network namespace made here):
 *
 * - `ip link set DEV down` … `up`: one log line each way, the stats line
 *   counts it (capture.linkDowns, capture.down while it lasts, and the same
 *   in /metrics), the daemon
 *   stays up and the traffic sent after the `up` raises its alert;
 * - `ip link del DEV` and the pair made again under the same names (a NIC
 *   replugged, a veth recreated): libpcap ends the capture ("The interface
 *   disappeared"); instead of exiting, the daemon logs one line, retries
 *   opening with backoff on wall-clock timers (one line for the failures, not
 *   one per attempt), resumes once the interface exists, and the traffic after
 *   that raises its alert; the summary counts the loss and the reopen.
 *
 * Traffic: bursts of TCP connection attempts from distinct source addresses,
 * one event_rate alert each. Needs root, the capture addon and dist/; skipped
 * with the reason printed otherwise. Namespace and daemon (by PID) are removed
 * in afterAll.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP } from '../helpers/netns.js';
import { until, freePort } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, detectorNames, genericRulesOnly, type LogLine } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const avail = captureAvailable();
const SKIP = !IS_ROOT
  ? 'not running as root (creates a network namespace; live capture needs CAP_NET_RAW)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP daemon link: ${SKIP}`);

const BURST = 120; // connection attempts per source: > 50/s in one second of packet time

function ip(...args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, encoding: 'utf8' });
}

/** waits (bounded) until the host end has carrier again */
async function carrier(dev: string): Promise<void> {
  await until(() => /LOWER_UP/.test(ip('link', 'show', dev)), 5_000, `carrier on ${dev}`);
}

/** the veth pair of `ns` made again with the same names and addresses (after `ip link del`) */
async function remakePair(ns: Netns): Promise<void> {
  ip('link', 'add', ns.hostIf, 'type', 'veth', 'peer', 'name', ns.nsIf, 'netns', ns.name);
  try { execFileSync('sysctl', ['-qw', `net.ipv6.conf.${ns.hostIf}.disable_ipv6=1`], { stdio: 'ignore', timeout: 5_000 }); } catch { /* no IPv6 */ }
  try { ns.exec('sysctl', ['-qw', `net.ipv6.conf.${ns.nsIf}.disable_ipv6=1`]); } catch { /* no IPv6 */ }
  ip('addr', 'add', `${ns.hostIp}/${ns.prefix}`, 'dev', ns.hostIf);
  ip('link', 'set', ns.hostIf, 'up');
  for (const a of [ns.nsIp, ...ns.extra]) ns.exec('ip', ['addr', 'add', `${a}/${ns.prefix}`, 'dev', ns.nsIf]);
  ns.exec('ip', ['link', 'set', ns.nsIf, 'up']);
  await carrier(ns.hostIf);
}

describe.skipIf(!!SKIP)('tapwatch run: the capture interface goes down or away and comes back', () => {
  let root = '';
  let ns: Netns;
  let d: Daemon;
  let alerts = '';
  let next = 0;
  let metricsPort = 0;
  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  const burst = async (): Promise<string> => {
    const s = ns.extra[next++]!;
    const r = await ns.connectBurst({ sources: [s], count: BURST, portFrom: 5000 });
    expect(r.attempts).toBe(BURST);
    await until(() => readAlerts(alerts).some((a) => a.src === s), 10_000, `alert for ${s}`);
    return s;
  };
  const lines = (re: RegExp): LogLine[] => d.logs().filter((l) => re.test(l.msg));
  const cap = (l: LogLine): Record<string, number> => (l.capture as Record<string, number>) ?? {};

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-link-'));
    alerts = path.join(root, 'alerts.jsonl');
    const names = await detectorNames();
    ns = Netns.create({ extraSources: 4 });
    const detectors = genericRulesOnly(names, 50);
    const conf = path.join(root, 'tapwatch.json');
    fs.writeFileSync(conf, JSON.stringify({
      capture: { interface: ns.hostIf },
      outputs: { file: { path: alerts } },
      daemon: { statsSchedule: '* * * * * *', metrics: `127.0.0.1:${(metricsPort = await freePort())}` },
      detectors,
    }));
    d = new Daemon({ args: ['-c', conf], env: { STATE_DIRECTORY: path.join(root, 'state') } });
    await d.waitStarted();
  });

  afterAll(async () => {
    d?.kill();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('ip link set down / up: logged once each way, counted, capture goes on', async () => {
    const first = await burst();
    ip('link', 'set', ns.hostIf, 'down');
    const downLine = await d.waitLog((l) => /capture interface is down/.test(l.msg), 5_000, '"capture interface is down"');
    expect(downLine.level).toBe(40); // warn
    const during = await d.waitLog((l) => l.msg === 'stats' && cap(l).down === 1, 5_000, 'a stats line while it is down');
    expect(cap(during).linkDowns).toBe(1);
    const m = await scrape();
    expect(m).toMatch(/^tapwatch_capture_down 1$/m);
    expect(m).toMatch(/^tapwatch_capture_link_downs_total 1$/m);
    await new Promise((r) => setTimeout(r, 1_500)); // down for a while: still one line
    expect(d.running).toBe(true);

    ip('link', 'set', ns.hostIf, 'up');
    await carrier(ns.hostIf);
    const upLine = await d.waitLog((l) => /capture interface is up again/.test(l.msg), 5_000, '"capture interface is up again"');
    expect(upLine.down_s as number).toBeGreaterThanOrEqual(1.5);
    const nUp = d.logs().length;
    const after = await burst();
    expect(readAlerts(alerts).map((a) => a.src)).toEqual([first, after]);
    expect(lines(/capture interface is down/)).toHaveLength(1);
    expect(lines(/capture interface is up again/)).toHaveLength(1);
    expect(lines(/capture lost|capture failed/)).toHaveLength(0); // the handle survived this one
    const st = await d.waitLog((l) => l.msg === 'stats' && cap(l).down === 0 && (l.packets as number) > 3 * BURST, 5_000, 'a stats line after the up', nUp);
    expect(cap(st)).toMatchObject({ linkDowns: 1, interruptions: 0 });
  }, 40_000);

  it('ip link del and the pair made again: the capture is reopened with backoff, not the daemon ended', async () => {
    const n0 = d.logs().length;
    ip('link', 'del', ns.hostIf);
    const lost = await d.waitLog((l) => /capture lost: reopening/.test(l.msg), 5_000, '"capture lost"', n0);
    expect(String(lost.err)).toMatch(/disappeared|went down|No such device/i);
    await new Promise((r) => setTimeout(r, 2_000)); // several attempts fail meanwhile (250, 500, 1000 ms …)
    expect(d.running).toBe(true);
    const failed = lines(/cannot reopen the interface yet/);
    expect(failed).toHaveLength(1); // the first failure is logged, the next ones only counted
    expect(failed[0]!.code).toBe('ENODEV');

    await remakePair(ns);
    const resumed = await d.waitLog((l) => l.msg === 'capture resumed', 10_000, '"capture resumed"', n0);
    expect(resumed.attempts as number).toBeGreaterThanOrEqual(3);
    const after = await burst();
    expect(readAlerts(alerts).at(-1)!.src).toBe(after);
    const st = await d.waitLog((l) => l.msg === 'stats' && cap(l).reopens === 1 && cap(l).down === 0, 5_000, 'a stats line after the reopen', n0);
    expect(cap(st).interruptions).toBe(1);
    expect(cap(st).received).toBeGreaterThan(3 * BURST); // counters carried over the reopen
    const m = await scrape();
    expect(m).toMatch(/^tapwatch_capture_interruptions_total 1$/m);
    expect(m).toMatch(/^tapwatch_capture_reopens_total 1$/m);
    expect(m).toMatch(/^tapwatch_capture_down 0$/m);

  }, 40_000);

  it('deleted while down (libpcap says nothing then) and made again: noticed by its ifindex, reopened', async () => {
    const n0 = d.logs().length;
    ip('link', 'set', ns.hostIf, 'down');
    await d.waitLog((l) => /capture interface is down/.test(l.msg), 5_000, '"capture interface is down"', n0);
    ip('link', 'del', ns.hostIf);
    const lost = await d.waitLog((l) => /capture lost: reopening/.test(l.msg), 5_000, '"capture lost"', n0);
    expect(String(lost.err)).toMatch(/disappeared \(ifindex \d+ -> none\)/);
    await remakePair(ns);
    await d.waitLog((l) => l.msg === 'capture resumed', 10_000, '"capture resumed"', n0);
    const after = await burst(); // without the reopen the old socket, bound to the old ifindex, sees nothing
    expect(readAlerts(alerts).at(-1)!.src).toBe(after);

    const stop = await d.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    const s = d.summary()!;
    expect(s.alertsByKind).toEqual({ event_rate: 4 });
    expect(s.text).toMatch(/interface down 3 times, capture lost 2 and reopened 2 times/);
    expect(s.capture!.delivered).toBeGreaterThan(4 * BURST);
  }, 40_000);
});
