/**
 * `tapwatch run` end to end, as deployed: the built daemon captures on the
 * host end of a veth pair, a real nmap SYN scan and real DNS queries come
 * from a network namespace, alerts go to a JSON-lines file and to a real
 * rsyslogd over TCP and UDP (RFC 5424). Then SIGTERM: exit 0 within seconds,
 * the summary on stderr with the capture counters, and nothing lost (the
 * alert file holds exactly the "alerts written" of the summary).
 *
 * The scan detector: `port_scan` with its defaults when the registry has
 * one, else `event_rate` with maxPerSecond=50 (a 300-port scan is ~300 SYNs
 * in well under a second).
 *
 * Needs root (namespace, capture), the capture addon, rsyslogd, nmap, dig and
 * a built dist/ (npm run build); skipped with the reason printed otherwise.
 * Everything started here (namespace, veth, rsyslogd, daemon) is removed in
 * afterAll, processes by PID.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP, which } from '../helpers/netns.js';
import { Rsyslog, HAVE_RSYSLOGD, until } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, detectorNames } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const avail = captureAvailable();
const SKIP = !IS_ROOT
  ? 'not running as root (creates a network namespace; live capture needs CAP_NET_RAW)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !HAVE_RSYSLOGD ? 'rsyslogd not found (apt-get install rsyslog)'
  : !which('nmap') ? 'nmap not found (apt-get install nmap)'
  : !which('dig') ? 'dig not found (apt-get install dnsutils)'
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP daemon e2e: ${SKIP}`);

describe.skipIf(!!SKIP)('tapwatch run end to end (veth + nmap + dig → file + rsyslog tcp/udp)', () => {
  let root = '';
  let ns: Netns | undefined;
  let rs: Rsyslog | undefined;
  let d: Daemon | undefined;
  let kind = 'event_rate';
  const rateArgs: string[] = [];

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-e2e-'));
    if ((await detectorNames()).includes('port_scan')) kind = 'port_scan';
    else rateArgs.push('--set', 'detectors.event_rate.maxPerSecond=50');
    console.log(`daemon e2e: expecting ${kind} alerts`);
    ns = Netns.create();
    rs = await Rsyslog.start(root);
  });

  afterAll(async () => {
    d?.kill();
    await rs?.stop();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('raises the scan alert naming the attacker in the file and at rsyslog (tcp and udp), exits 0 on SIGTERM with nothing lost', async () => {
    const alerts = path.join(root, 'alerts.jsonl');
    d = new Daemon({
      args: [
        '-i', ns!.hostIf, '-o', alerts,
        '--syslog', `tcp://127.0.0.1:${rs!.tcpPort}`, '--syslog', `udp://127.0.0.1:${rs!.udpPort}`,
        ...rateArgs,
      ],
      env: { STATE_DIRECTORY: path.join(root, 'state') },
    });
    const started = await d.waitStarted();
    expect(started.outputs).toEqual([`file:${alerts}`, `syslog:tcp://127.0.0.1:${rs!.tcpPort}`, `syslog:udp://127.0.0.1:${rs!.udpPort}`]);

    const scan = await ns!.nmapScan(300);
    expect(scan.code, scan.stderr).toBe(0);
    expect(scan.stdout).toMatch(/All 300 scanned ports .* closed|Not shown: 300 closed/);
    for (const name of ['www.example.com', 'tapwatch-test.invalid']) await ns!.dig(name);

    const mine = (a: Record<string, unknown>) => a.kind === kind && a.src === ns!.nsIp;
    await until(() => readAlerts(alerts).some(mine), 10_000, `${kind} alert for ${ns!.nsIp} in the alert file`);
    const fromRsyslog = (input: string) => rs!.records().filter((r) => r.input === input && r.app === 'tapwatch' && Rsyslog.sd(r)?.kind === kind);
    await until(() => fromRsyslog('imtcp').length > 0 && fromRsyslog('imudp').length > 0, 10_000, 'the alert at rsyslog over tcp and udp');

    const fileAlert = readAlerts(alerts).find(mine)!;
    expect(fileAlert.sensor).toBe(ns!.hostIf);
    for (const input of ['imtcp', 'imudp']) {
      const rec = fromRsyslog(input)[0]!;
      expect(rec.raw.startsWith('<')).toBe(true);
      expect(rec.raw).toMatch(/^<\d+>1 \d{4}-\d\d-\d\dT/); // RFC 5424 header
      expect(rec.app).toBe('tapwatch');
      expect(rec.msgid).toBe(kind);
      expect(rec.procid).toBe(String(d.pid));
      expect(Rsyslog.sd(rec)).toMatchObject({ kind, src: ns!.nsIp });
      const payload = JSON.parse(rec.msg) as Record<string, unknown>;
      expect(payload).toMatchObject({ kind, src: ns!.nsIp, ts: fileAlert.ts, summary: fileAlert.summary });
    }

    const stop = await d.stop('SIGTERM', 10_000);
    expect(stop.timedOut).toBe(false);
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(5_000);
    const s = d.summary();
    expect(s, d.stderr).not.toBeNull();
    expect(s!.capture).not.toBeNull();
    console.log(`daemon e2e: stopped in ${stop.ms} ms; ${s!.text.split('\n').filter((l) => /^(packets|alerts written|capture)/.test(l)).join(' | ')}`);
    expect(s!.capture!.received).toBeGreaterThanOrEqual(300);
    expect(s!.capture!.dropped + s!.capture!.ifdropped + s!.capture!.queueDropped).toBe(0);
    expect(s!.capture!.delivered).toBe(s!.packets);
    expect(s!.eventsByType.tcp_syn).toBeGreaterThanOrEqual(300);
    expect(s!.eventsByType.dns).toBeGreaterThanOrEqual(2);
    expect(s!.alertsByKind[kind]).toBeGreaterThanOrEqual(1);
    // nothing lost: every alert written is in the file, and at rsyslog over both transports
    const inFile = readAlerts(alerts);
    expect(inFile.length).toBe(s!.alertsWritten);
    const all = (input: string) => rs!.records().filter((r) => r.input === input && r.app === 'tapwatch');
    await until(() => all('imtcp').length >= s!.alertsWritten && all('imudp').length >= s!.alertsWritten, 5_000, 'every alert at rsyslog');
    expect(all('imtcp').length).toBe(s!.alertsWritten);
    expect(all('imudp').length).toBe(s!.alertsWritten);
    // the final log line carries the sink counters
    const final = d.logs().find((l) => l.msg === 'summary') as { sinks?: Record<string, Record<string, number>> } | undefined;
    expect(final?.sinks?.[`file:${alerts}`]).toMatchObject({ written: s!.alertsWritten, delivered: s!.alertsWritten, dropped: 0 });
    expect(final?.sinks?.[`syslog:tcp://127.0.0.1:${rs!.tcpPort}`]).toMatchObject({ written: s!.alertsWritten, delivered: s!.alertsWritten, dropped: 0 });
  }, 60_000);
});
