/**
 * `tapwatch run` with its spool on a full disk: $STATE_DIRECTORY is a 64 KiB
 * tmpfs mounted for this test, the syslog target (a real rsyslogd, stopped) is
 * down so alerts spool, and the tmpfs is filled by a filler file.
 *
 * - 8 alerts while one page (4 KiB) is left: the first ones are spooled, the
 *   rest cannot be written (ENOSPC): every one is counted (spooled + dropped =
 *   8 in the stats line), the log has ONE error line saying why, not one per
 *   alert, and the alert file (on a normal disk) has all 8;
 * - two pages are freed, one more alert is spooled — behind the record the
 *   short write cut (a torn record left in the file would glue itself to this
 *   one and both would go out garbled);
 * - the tmpfs is filled again and rsyslogd started: the spool is delivered
 *   while the disk is still full (recording the delivered offset needs no new
 *   space), every spooled alert arrives exactly once, whole, in file order,
 *   none of the dropped ones does; then a new alert goes out directly;
 * - the daemon captured throughout and exits 0 on SIGTERM; the summary has the
 *   same drop count.
 *
 * Needs root (mount, network namespace, capture), the capture addon, rsyslogd
 * and dist/; skipped with the reason printed otherwise. The daemon (by PID),
 * rsyslogd, the namespace and the mount are removed in afterAll.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP } from '../helpers/netns.js';
import { Rsyslog, HAVE_RSYSLOGD, until } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, detectorNames, genericRulesOnly, type LogLine } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';
import { SpoolFile } from '../../src/sinks/spool-file.js';

const avail = captureAvailable();
const SKIP = !IS_ROOT
  ? 'not running as root (mounts a tmpfs, creates a network namespace; live capture needs CAP_NET_RAW)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !HAVE_RSYSLOGD ? 'rsyslogd not found (apt-get install rsyslog)'
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP daemon disk full: ${SKIP}`);

const BURST = 120; // connection attempts per source: > 50/s in one second of packet time
const PAGE = 4096;

type SinkStats = Record<string, Record<string, number>>;

/** fills the file system holding `file` by appending to it until ENOSPC; returns its size */
function fill(file: string): number {
  const fd = fs.openSync(file, 'a');
  const chunk = Buffer.alloc(PAGE, 0x78);
  try {
    for (let i = 0; i < 1024; i++) fs.writeSync(fd, chunk); // bounded: 4 MiB at most
    throw new Error(`${file}: not full after 4 MiB (is it on the small tmpfs?)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return fs.statSync(file).size;
}

/** frees `pages` pages by cutting the filler (to a page boundary) */
function free(file: string, pages: number): void {
  const size = fs.statSync(file).size;
  fs.truncateSync(file, Math.max(0, Math.floor(size / PAGE) * PAGE - pages * PAGE));
}

describe.skipIf(!!SKIP)('tapwatch run: the spool disk is full while the syslog target is down', () => {
  let root = '';
  let state = '';
  let mounted = false;
  let ns: Netns;
  let rs: Rsyslog;
  let d: Daemon | undefined;
  let names: string[] = [];

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-diskfull-'));
    state = path.join(root, 'state');
    fs.mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0750', 'tapwatch-test-spool', state], { timeout: 10_000 });
    mounted = true;
    names = await detectorNames();
    ns = Netns.create({ extraSources: 11 });
    rs = await Rsyslog.start(root);
    await rs.stop(); // its port is the target; it is down from the start
  });

  afterAll(async () => {
    if (d) {
      d.kill();
      if (d.proc.exitCode === null && d.proc.signalCode === null) await d.waitExit();
    }
    await rs?.stop();
    ns?.destroySync();
    if (mounted) {
      try {
        execFileSync('umount', [state], { timeout: 10_000 });
      } catch {
        execFileSync('umount', ['-l', state], { timeout: 10_000 }); // busy: detach now, freed when the last user goes
      }
    }
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('drops are counted and reported in one line; the alert file and capture go on; the spool stays whole', async () => {
    const alerts = path.join(root, 'alerts.jsonl');
    const conf = path.join(root, 'tapwatch.json');
    const filler = path.join(state, 'filler');
    const sink = `syslog:tcp://127.0.0.1:${rs.tcpPort}`;
    const detectors = genericRulesOnly(names, 50);
    fs.writeFileSync(conf, JSON.stringify({
      capture: { interface: ns.hostIf },
      outputs: { file: { path: alerts }, syslog: [{ url: `tcp://127.0.0.1:${rs.tcpPort}` }] },
      daemon: { statsSchedule: '* * * * * *' },
      detectors,
    }));
    d = new Daemon({ args: ['-c', conf], env: { STATE_DIRECTORY: state } });
    const daemon = d;
    await daemon.waitStarted();
    await daemon.waitLog((l) => /target unavailable, spooling alerts/.test(l.msg), 10_000, 'the sink noticing rsyslog is down');

    const sinkStats = (l: LogLine): Record<string, number> => (l.sinks as SinkStats)?.[sink] ?? {};
    const fileSink = `file:${alerts}`;
    const errorsNow = (): LogLine[] => daemon.logs().filter((l) => l.level >= 50);
    let src = 0;
    const burst = async (n: number): Promise<string[]> => {
      const srcs = ns.extra.slice(src, src + n);
      src += n;
      expect(srcs).toHaveLength(n);
      const r = await ns.connectBurst({ sources: srcs, count: BURST, portFrom: 5000, gapMs: 150 });
      expect(r.attempts).toBe(BURST * n);
      await until(() => srcs.every((s) => readAlerts(alerts).some((a) => a.src === s)), 15_000, `alerts for ${srcs.join(', ')}`);
      return srcs;
    };

    // 1. one page left: 8 alerts
    fill(filler);
    free(filler, 1);
    const a = await burst(8);
    const st1 = await daemon.waitLog((l) => l.msg === 'stats' && (sinkStats(l).spooled ?? 0) + (sinkStats(l).dropped ?? 0) >= 8, 5_000, '8 alerts spooled or dropped');
    const spooled1 = sinkStats(st1).spooled!;
    const dropped = sinkStats(st1).dropped!;
    console.log(`daemon disk full: with one free page ${spooled1} alerts spooled, ${dropped} dropped; error lines: ${errorsNow().map((l) => l.msg).join(' | ')}`);
    expect(spooled1 + dropped).toBe(8);
    expect(spooled1).toBeGreaterThanOrEqual(1);
    expect(dropped).toBeGreaterThanOrEqual(4);
    expect(sinkStats(st1).spool_write_errors).toBe(dropped);
    // counted, reported once with the reason — not one line per alert
    const errs = errorsNow();
    expect(errs).toHaveLength(1);
    expect(errs[0]!.msg).toMatch(/DROPPING ALERTS \(spool write failed: ENOSPC\)/);
    expect(errs[0]!.dropped_total).toBeGreaterThanOrEqual(1);
    // the other output did not lose one
    expect(readAlerts(alerts).map((x) => x.src)).toEqual(a);
    expect(sinkStats(st1)).toBeDefined();
    expect((st1.sinks as SinkStats)[fileSink]).toMatchObject({ dropped: 0 });

    // 2. two pages back: the next alert is spooled behind the cut record
    free(filler, 2);
    const b = await burst(1);
    await daemon.waitLog((l) => l.msg === 'stats' && sinkStats(l).spooled === spooled1 + 1, 5_000, 'one more alert spooled');

    // 3. disk full again, rsyslogd back: the spool is delivered anyway
    fill(filler);
    await rs.start();
    const arrived = (): string[] =>
      rs.records().filter((r) => r.app === 'tapwatch' && r.procid === String(daemon.pid)).map((r) => Rsyslog.sd(r)?.src ?? '?');
    await until(() => arrived().length >= spooled1 + 1, 40_000, `${spooled1 + 1} spooled alerts at rsyslog`);
    await daemon.waitLog((l) => l.msg === 'stats' && sinkStats(l).spool_pending === 0 && sinkStats(l).delivered === spooled1 + 1, 5_000, 'the spool delivered');
    const c = await burst(1); // the spool is empty again: this one goes out directly
    await until(() => arrived().length >= spooled1 + 2, 10_000, 'the alert raised after the delivery');
    await new Promise((r) => setTimeout(r, 500)); // would-be duplicates get a moment to show up

    const inFile = readAlerts(alerts).map((x) => String(x.src));
    expect(inFile).toEqual([...a, ...b, ...c]);
    const got = arrived();
    expect(got).toHaveLength(spooled1 + 2); // exactly once; the dropped ones never
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual(inFile.filter((s) => got.includes(s))); // in file order
    expect(got.slice(-2)).toEqual([...b, ...c]);
    // whole messages: each one's structured data parsed and its JSON payload is one valid document
    for (const r of rs.records().filter((x) => x.app === 'tapwatch')) {
      expect(Rsyslog.sd(r)?.kind).toBe('event_rate');
      expect((JSON.parse(r.msg) as { src: string }).src).toBe(Rsyslog.sd(r)!.src);
    }
    expect(daemon.logs().some((l) => /cannot record the delivered offset/.test(l.msg))).toBe(false);

    // capture went on throughout; clean exit with the same counts
    expect(daemon.running).toBe(true);
    const stop = await daemon.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    const final = daemon.logs().find((l) => l.msg === 'summary');
    expect(final).toBeDefined();
    expect(sinkStats(final!)).toMatchObject({ dropped, spooled: spooled1 + 1, spool_pending: 0 });
    expect((final!.sinks as SinkStats)[fileSink]).toMatchObject({ written: 10, dropped: 0 });
    expect(daemon.summary()!.alertsWritten).toBe(10);
  }, 60_000);

  it('a partial delivery on a full disk still records its offset (a restart resends nothing delivered)', () => {
    // The daemon above always delivered its small spool in one batch, and a whole
    // delivery truncates the file (freeing space) before writing the offset; a
    // big spool goes out in 64 KiB batches, each acknowledged on a full disk.
    const dir = path.join(state, 'unit');
    fs.rmSync(path.join(state, 'filler'), { force: true });
    const open = (): SpoolFile => new SpoolFile({ dir, name: 'partial' });
    const s1 = open();
    for (const m of ['one', 'two', 'three']) expect(s1.append(m)).toBe(true);
    const filler = path.join(state, 'filler2');
    fill(filler);
    expect(s1.append('four '.repeat(2000))).toBe(false); // 10 KB: needs pages there are none of
    expect(s1.failReason).toMatch(/ENOSPC/);
    const b = s1.take(64 * 1024, 1)!;
    expect(b.msgs).toEqual(['one']);
    s1.ack(b.end, 1); // must neither throw nor lose the offset
    expect(s1.writeErrors).toBe(1); // the refused append only
    s1.close();
    const s2 = open();
    expect(s2.pendingRecords).toBe(2);
    expect(s2.take()!.msgs).toEqual(['two', 'three']);
    s2.close();
    fs.rmSync(filler);
  });
});
