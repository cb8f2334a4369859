/**
 * `tapwatch run` the way systemd/tapwatch.service runs it: as an unprivileged
 * user with only CAP_NET_RAW and CAP_NET_ADMIN as *ambient* capabilities
 * (AmbientCapabilities=), a bounding set of just those two
 * (CapabilityBoundingSet=) and no_new_privs (NoNewPrivileges=yes) — the node
 * binary itself carries no file capabilities (no setcap). setpriv(1) does
 * what systemd does: keep the capabilities across the UID change, raise them
 * as inheritable and ambient, exec node.
 *
 * - with the capabilities: the process runs with a non-zero UID and exactly
 *   those two effective capabilities, captures on the veth, raises the alert,
 *   writes the file and exits 0 on SIGTERM;
 * - without them: exit 2 and a one-line message that says how to grant them.
 *
 * A system user `tapwatch-test` (no home, nologin shell) is created when
 * absent and left in place (idempotent; concurrent runs share it). Needs
 * root, setpriv (util-linux), the capture addon and dist/; skipped with the
 * reason printed otherwise. Namespace and daemon are removed in afterAll.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP, which } from '../helpers/netns.js';
import { until } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, REPO } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const USER = 'tapwatch-test';
const avail = captureAvailable();
const SETPRIV = which('setpriv');
const SKIP = !IS_ROOT
  ? 'not running as root (creates a user and a network namespace, drops to that user)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !SETPRIV ? 'setpriv (util-linux) not found'
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP daemon capabilities: ${SKIP}`);

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const TWO_CAPS = (1n << BigInt(CAP_NET_ADMIN)) | (1n << BigInt(CAP_NET_RAW)); // 0x3000

function ensureUser(): void {
  if (spawnSync('id', ['-u', USER]).status === 0) return;
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 9 /* exists: a concurrent run made it */) throw new Error(`useradd ${USER}: ${r.stderr}`);
}

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return out;
}

/** 150 attempts at distinct ports from one source: a port_scan (the event_rate alert is folded into it) */
const CAUGHT = ['port_scan', 'event_rate'];

describe.skipIf(!!SKIP)('tapwatch run as an unprivileged user with ambient CAP_NET_RAW + CAP_NET_ADMIN (as systemd runs it)', () => {
  let root = '';
  let ns: Netns;
  let d: Daemon | undefined;
  let uid = 0;

  /** setpriv doing what the unit's User=, AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges= do */
  const wrapper = (caps: boolean): string[] => [
    SETPRIV!, `--reuid=${USER}`, `--regid=${USER}`, '--init-groups', '--no-new-privs',
    ...(caps
      ? ['--inh-caps=-all,+net_raw,+net_admin', '--ambient-caps=-all,+net_raw,+net_admin', '--bounding-set=-all,+net_raw,+net_admin']
      : ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all']),
  ];

  beforeAll(() => {
    ensureUser();
    uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-caps-'));
    fs.chownSync(root, uid, uid); // the daemon's LogsDirectory/StateDirectory stand-in
    ns = Netns.create();
  });

  afterAll(() => {
    d?.kill();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('node carries no file capabilities, and the user can read the install', () => {
    const getcap = which('getcap');
    if (getcap) expect(execFileSync(getcap, [fs.realpathSync(process.execPath)], { encoding: 'utf8' }).trim()).toBe('');
    const r = spawnSync(SETPRIV!, [`--reuid=${USER}`, `--regid=${USER}`, '--init-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(path.join(REPO, 'dist/cli/main.js'))})`], { encoding: 'utf8' });
    expect(r.status, `${USER} cannot read ${REPO}/dist: ${r.stderr}`).toBe(0);
  });

  it('with the two ambient capabilities: non-root, exactly CAP_NET_RAW + CAP_NET_ADMIN, captures, alerts, exits 0', async () => {
    const alerts = path.join(root, 'alerts.jsonl');
    d = new Daemon({
      wrapper: wrapper(true),
      args: ['-i', ns.hostIf, '-o', alerts, '--set', 'detectors.event_rate.maxPerSecond=50'],
      env: { STATE_DIRECTORY: path.join(root, 'state') },
    });
    await d.waitStarted();
    // setpriv execs node in place: the PID we started is the daemon
    const st = status(d.pid);
    expect(st.Name).toBe('node');
    expect(st.Uid!.split(/\s+/).map(Number)).toEqual([uid, uid, uid, uid]);
    expect(BigInt('0x' + st.CapEff)).toBe(TWO_CAPS);
    expect(BigInt('0x' + st.CapPrm)).toBe(TWO_CAPS);
    expect(BigInt('0x' + st.CapAmb)).toBe(TWO_CAPS);
    expect(BigInt('0x' + st.CapBnd)).toBe(TWO_CAPS);
    expect(st.NoNewPrivs).toBe('1');
    console.log(`daemon caps: uid ${uid}, CapEff ${st.CapEff}, CapAmb ${st.CapAmb}, CapBnd ${st.CapBnd}, NoNewPrivs ${st.NoNewPrivs}`);

    const b = await ns.connectBurst({ sources: [ns.nsIp], count: 150, portFrom: 6000 });
    expect(b.attempts).toBe(150);
    await until(() => readAlerts(alerts).some((a) => CAUGHT.includes(String(a.kind)) && a.src === ns.nsIp), 10_000, 'port_scan alert');
    expect(fs.statSync(alerts).uid).toBe(uid); // written by the unprivileged user

    const stop = await d.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    const s = d.summary();
    expect(s!.capture!.received).toBeGreaterThanOrEqual(150);
    expect(s!.alertsWritten).toBe(readAlerts(alerts).length);
  });

  it('without them: exit 2 with a one-line message naming AmbientCapabilities', async () => {
    d = new Daemon({
      wrapper: wrapper(false),
      args: ['-i', ns.hostIf, '-o', path.join(root, 'never.jsonl')],
      env: { STATE_DIRECTORY: path.join(root, 'state') },
    });
    const r = await d.waitExit();
    expect(r.code).toBe(2);
    const msg = d.stderr.trim().split('\n').filter((l) => l.startsWith('tapwatch:'));
    expect(msg).toHaveLength(1);
    expect(msg[0]).toMatch(/no permission to capture/);
    expect(msg[0]).toMatch(/AmbientCapabilities=CAP_NET_RAW/);
  });
  it('started as root with --user: switches to that user after opening capture and outputs, keeps no capability, still captures and alerts', async () => {
    const alerts = path.join(root, 'alerts-dropped.jsonl');
    d = new Daemon({
      // flows.workers is analyze's: run says it analyses on one thread rather than ignoring it
      args: ['-i', ns.hostIf, '-o', alerts, '--user', USER, '--set', 'detectors.event_rate.maxPerSecond=50', '--set', 'flows.workers=2'],
      env: { STATE_DIRECTORY: path.join(root, 'state') },
    });
    await d.waitStarted();
    await until(() => d!.stderr.includes('privileges dropped'), 10_000, 'privileges dropped log line');
    expect(d.stderr).toContain('flows.workers applies to analyze only');
    const st = status(d.pid);
    expect(st.Uid!.split(/\s+/).map(Number)).toEqual([uid, uid, uid, uid]);
    expect(st.Gid!.split(/\s+/).map(Number).every((g) => g !== 0)).toBe(true);
    expect(st.Groups!.split(/\s+/).filter(Boolean).map(Number)).not.toContain(0);
    for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapInh']) expect(BigInt('0x' + st[set]), set).toBe(0n);

    const b = await ns.connectBurst({ sources: [ns.nsIp], count: 150, portFrom: 7000 });
    expect(b.attempts).toBe(150);
    await until(() => readAlerts(alerts).some((a) => CAUGHT.includes(String(a.kind)) && a.src === ns.nsIp), 10_000, 'port_scan alert after the drop');
    const stop = await d.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    expect(d.summary()!.capture!.received).toBeGreaterThanOrEqual(150);
  });

  it('--user naming no user: exit 2 with one line naming daemon.user', async () => {
    d = new Daemon({
      args: ['-i', ns.hostIf, '-o', path.join(root, 'never2.jsonl'), '--user', 'no-such-user-tapwatch'],
      env: { STATE_DIRECTORY: path.join(root, 'state') },
    });
    const r = await d.waitExit();
    expect(r.code).toBe(2);
    const msg = d.stderr.trim().split('\n').filter((l) => l.startsWith('tapwatch:'));
    expect(msg).toHaveLength(1);
    expect(msg[0]).toMatch(/daemon\.user: no such user/);
  });
});
