/**
 * systemd/: the unit, the install script and the logrotate rules, checked
 * without installing anything on this machine:
 *
 * - `systemd-analyze verify` on the unit says nothing; `systemd-analyze
 *   security --offline=yes` rates it OK; shellcheck passes install.sh;
 *   logrotate -d accepts the rules (each when the tool exists);
 * - `install.sh --dry-run` prints every step and changes nothing;
 * - `install.sh --destdir TMP --no-build` installs a real copy under TMP; that
 *   copy is started with the unit's own ExecStart and identity (User=,
 *   AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges= turned
 *   into setpriv options; the test user `tapwatch-test` stands in for
 *   `tapwatch`; /opt/tapwatch and /etc/tapwatch point into TMP), captures on
 *   a veth pair, alerts to the file and a real rsyslogd; then logrotate runs
 *   the shipped rules (paths into TMP, the postrotate's systemctl replaced by
 *   kill -HUP of our daemon) and the next alert lands in a new file created
 *   by the daemon's user.
 *
 * Needs root for the second part (user, namespace, capture), plus the addon,
 * rsyslogd, setpriv, logrotate and a built dist/. Everything is under a temp
 * dir, removed in afterAll with the namespace, rsyslogd and daemon.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Netns, IS_ROOT, HAVE_IP, which } from '../helpers/netns.js';
import { Rsyslog, HAVE_RSYSLOGD, until } from '../helpers/rsyslog.js';
import { Daemon, HAVE_DIST, readAlerts, REPO, detectorNames } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const SYSTEMD = path.join(REPO, 'systemd');
const UNIT = path.join(SYSTEMD, 'tapwatch.service');
const INSTALL = path.join(SYSTEMD, 'install.sh');
const LOGROTATE_RULES = path.join(SYSTEMD, 'tapwatch.logrotate');
const TEST_USER = 'tapwatch-test';

/** the [Service] settings of the unit (last assignment wins, as in systemd) */
function unitSettings(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith('[')) continue;
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

/** setpriv options doing what User=, AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges= do */
function setprivFor(u: Record<string, string>, user: string): string[] {
  const caps = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean).map((c) => c.replace(/^CAP_/, '').toLowerCase());
  const amb = caps(u.AmbientCapabilities);
  const bnd = caps(u.CapabilityBoundingSet);
  return [
    which('setpriv')!, `--reuid=${user}`, `--regid=${user}`, '--init-groups',
    ...(u.NoNewPrivileges === 'yes' ? ['--no-new-privs'] : []),
    `--inh-caps=-all${amb.map((c) => `,+${c}`).join('')}`,
    `--ambient-caps=-all${amb.map((c) => `,+${c}`).join('')}`,
    `--bounding-set=-all${bnd.map((c) => `,+${c}`).join('')}`,
  ];
}

function snapshot(paths: string[]): string {
  return paths.map((p) => {
    try {
      const st = fs.statSync(p);
      return `${p}:${st.mtimeMs}:${st.size}`;
    } catch {
      return `${p}:absent`;
    }
  }).join('\n');
}

describe('systemd/ files', () => {
  it.skipIf(!which('systemd-analyze'))('systemd-analyze verify: no complaints', () => {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', timeout: 30_000 });
    console.log(`systemd-analyze verify: exit ${r.status}, output: ${JSON.stringify((r.stdout + r.stderr).trim())}`);
    expect(r.status).toBe(0);
    expect((r.stdout + r.stderr).trim()).toBe('');
  });

  it.skipIf(!which('systemd-analyze'))('systemd-analyze security --offline: exposure rated OK or better', () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT], { encoding: 'utf8', timeout: 30_000 });
    const m = /Overall exposure level for tapwatch\.service: ([\d.]+) (\S+)/.exec(r.stdout);
    console.log(`systemd-analyze security: ${m ? `${m[1]} ${m[2]}` : r.stdout.slice(-300)}`);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(4); // systemd: < 4.0 "OK", < 2.0 "SAFE"
    // what capture needs is there; what would break node is not
    const u = unitSettings(UNIT);
    expect(u.MemoryDenyWriteExecute).toBe('no');
    expect(u.RestrictAddressFamilies!.split(/\s+/)).toEqual(expect.arrayContaining(['AF_PACKET', 'AF_NETLINK', 'AF_INET', 'AF_INET6', 'AF_UNIX']));
    expect(u.PrivateNetwork).toBeUndefined();
  });

  if (!which('shellcheck')) console.log('SKIP shellcheck install.sh: shellcheck not installed (apt-get install shellcheck; not in test/setup.sh)');
  it.skipIf(!which('shellcheck'))('shellcheck install.sh', () => {
    const r = spawnSync('shellcheck', [INSTALL], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!which('logrotate'))('logrotate -d accepts the rules', () => {
    const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-lr-')), 'state');
    const r = spawnSync('logrotate', ['-d', '-s', state, LOGROTATE_RULES], { encoding: 'utf8', timeout: 30_000 });
    fs.rmSync(path.dirname(state), { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stderr).toMatch(/rotating pattern: \/var\/log\/tapwatch\/\*\.jsonl/);
  });

  it('install.sh --dry-run prints every step and changes nothing', () => {
    const watched = ['/opt/tapwatch', '/opt/tapwatch.new', '/etc/tapwatch', '/etc/systemd/system/tapwatch.service', '/etc/logrotate.d/tapwatch'];
    const before = snapshot(watched);
    const passwd = fs.readFileSync('/etc/passwd', 'utf8');
    const r = spawnSync('sh', [INSTALL, '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const cmds = r.stdout.split('\n').filter((l) => l.startsWith('+ '));
    for (const want of [
      /^\+ env -C \S+ npm ci /,
      /^\+ env -C \S+ npm run build$/,
      /^\+ cp -R \S+\/dist \/opt\/tapwatch\.new\/dist$/,
      /^\+ env -C \/opt\/tapwatch\.new npm ci --omit=dev --ignore-scripts/,
      /^\+ mv \/opt\/tapwatch\.new \/opt\/tapwatch$/,
      /^\+ install -d -m 0750 -o root -g tapwatch \/etc\/tapwatch$/,
      /^\+ install -m 0644 \S+\/systemd\/tapwatch\.service \/etc\/systemd\/system\/tapwatch\.service$/,
      /^\+ install -m 0644 \S+\/systemd\/tapwatch\.logrotate \/etc\/logrotate\.d\/tapwatch$/,
      /^\+ systemctl daemon-reload$/,
    ]) expect(cmds.some((c) => want.test(c)), `${want} in:\n${r.stdout}`).toBe(true);
    if (!/^tapwatch:/m.test(passwd)) expect(cmds.some((c) => /^\+ useradd --system .* tapwatch$/.test(c))).toBe(true);
    expect(cmds.some((c) => /systemctl (enable|start|restart)/.test(c))).toBe(false); // only when asked
    expect(snapshot(watched)).toBe(before);
    expect(fs.readFileSync('/etc/passwd', 'utf8')).toBe(passwd);
  });

  it('install.sh rejects unknown options and relative paths', () => {
    expect(spawnSync('sh', [INSTALL, '--frobnicate'], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync('sh', [INSTALL, '--dry-run', '--prefix', 'opt/x'], { encoding: 'utf8' }).status).toBe(1);
  });
});

const avail = captureAvailable();
const SKIP = !IS_ROOT
  ? 'not running as root (creates a user and a network namespace, drops to that user)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !HAVE_RSYSLOGD ? 'rsyslogd not found'
  : !which('setpriv') ? 'setpriv (util-linux) not found'
  : !which('logrotate') ? 'logrotate not found'
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first'
  : '';
if (SKIP) console.log(`SKIP installed copy under the unit's identity: ${SKIP}`);

describe.skipIf(!!SKIP)('install.sh --destdir: the installed copy, run as the unit says, rotated by the shipped logrotate rules', () => {
  let root = '';
  let dest = '';
  let ns: Netns;
  let rs: Rsyslog;
  let d: Daemon | undefined;
  let uid = 0;
  let installError = '';

  beforeAll(async () => {
    if (spawnSync('id', ['-u', TEST_USER]).status !== 0) {
      const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER], { encoding: 'utf8' });
      if (r.status !== 0 && r.status !== 9) throw new Error(`useradd: ${r.stderr}`);
    }
    uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-daemon-install-'));
    fs.chmodSync(root, 0o755);
    dest = path.join(root, 'dest');
    const r = spawnSync('sh', [INSTALL, '--no-build', '--destdir', dest], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) installError = `install.sh --destdir failed (exit ${r.status}; npm ci needs the registry or a warm cache):\n${r.stdout}\n${r.stderr}`;
    ns = Netns.create({ extraSources: 1 });
    rs = await Rsyslog.start(root);
  }, 150_000);

  afterAll(async () => {
    d?.kill();
    await rs?.stop();
    ns?.destroySync();
    if (root && !process.env.TAPWATCH_KEEP_TMP) fs.rmSync(root, { recursive: true, force: true });
  });

  it('installs the tree, starts under the unit identity, alerts, rotates, stops cleanly', async () => {
    expect(installError).toBe('');
    const prefix = path.join(dest, 'opt/tapwatch');
    for (const f of ['dist/cli/main.js', 'src/capture/native/build/Release/tapwatch_pcap.node', 'node_modules/pino/package.json', 'systemd/tapwatch.json'])
      expect(fs.existsSync(path.join(prefix, f)), f).toBe(true);
    expect(fs.existsSync(path.join(prefix, 'node_modules/vitest')), 'no dev dependencies').toBe(false);
    expect(fs.existsSync(path.join(dest, 'etc/systemd/system/tapwatch.service'))).toBe(true);
    expect(fs.existsSync(path.join(dest, 'etc/logrotate.d/tapwatch'))).toBe(true);
    expect(fs.statSync(path.join(dest, 'etc/tapwatch/tapwatch.json')).mode & 0o777).toBe(0o640);

    // the configuration: the shipped example, pointed at this test's interface, log dir and rsyslogd
    const logs = path.join(root, 'log'); // LogsDirectory=tapwatch: 0750, owned by the service user
    const state = path.join(root, 'state');
    for (const dir of [logs, state]) {
      fs.mkdirSync(dir, { mode: 0o750 });
      fs.chownSync(dir, uid, uid);
    }
    const cfg = JSON.parse(fs.readFileSync(path.join(dest, 'etc/tapwatch/tapwatch.json'), 'utf8'));
    expect(cfg.outputs.file.path).toBe('/var/log/tapwatch/alerts.jsonl');
    cfg.capture.interface = ns.hostIf;
    cfg.outputs.file.path = path.join(logs, 'alerts.jsonl');
    cfg.outputs.syslog[0].url = `tcp://127.0.0.1:${rs.tcpPort}`;
    // one alert per burst: event_rate at 50/s; what else a burst could trigger is off
    cfg.detectors = { event_rate: { maxPerSecond: 50 } };
    for (const name of await detectorNames()) if (!['event_rate', 'size_anomaly', 'type_frequency'].includes(name)) cfg.detectors[name] = { enabled: false };
    const conf = path.join(root, 'tapwatch.json');
    fs.writeFileSync(conf, JSON.stringify(cfg), { mode: 0o640 });
    fs.chownSync(conf, 0, uid);

    // ExecStart as the installed unit has it, with /opt/tapwatch and /etc/tapwatch moved into the test dirs
    const unit = unitSettings(path.join(dest, 'etc/systemd/system/tapwatch.service'));
    expect(unit.User).toBe('tapwatch');
    const exec = unit.ExecStart!.split(/\s+/).map((a) => a.replace('/opt/tapwatch', prefix).replace('/etc/tapwatch/tapwatch.json', conf));
    expect(exec[0]).toBe('/usr/bin/node');
    d = new Daemon({
      command: exec,
      args: [],
      wrapper: setprivFor(unit, TEST_USER),
      env: { STATE_DIRECTORY: state, LOGS_DIRECTORY: logs, NODE_ENV: 'production' },
      cwd: '/',
    });
    await d.waitStarted();
    const st = fs.readFileSync(`/proc/${d.pid}/status`, 'utf8');
    expect(st).toMatch(/^CapEff:\s+0000000000003000$/m);
    expect(st).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, 'm'));

    const alerts = path.join(logs, 'alerts.jsonl');
    await ns.connectBurst({ sources: [ns.nsIp], count: 150, portFrom: 7000 });
    await until(() => readAlerts(alerts).some((a) => a.src === ns.nsIp), 10_000, 'first alert in the file');
    await until(() => rs.records().some((r) => r.procid === String(d!.pid)), 10_000, 'first alert at rsyslog');

    // logrotate with the shipped rules: paths into the test dir, postrotate signals our daemon by PID
    const rules = fs.readFileSync(path.join(dest, 'etc/logrotate.d/tapwatch'), 'utf8')
      .replaceAll('/var/log/tapwatch/', logs + '/')
      .replace(/^(\s*)if systemctl .*$/m, `$1kill -HUP ${d.pid}`);
    expect(rules).toContain(`kill -HUP ${d.pid}`);
    const rulesFile = path.join(root, 'logrotate.conf');
    fs.writeFileSync(rulesFile, rules);
    const n = d.logs().length;
    const lr = spawnSync('logrotate', ['-v', '-f', '-s', path.join(root, 'logrotate.state'), rulesFile], { encoding: 'utf8', timeout: 30_000 });
    expect(lr.status, lr.stderr).toBe(0);
    expect(lr.stderr).not.toMatch(/insecure permissions|error:/);
    expect(lr.stderr).toMatch(/running postrotate script/);
    await d.waitLog((l) => l.msg === 'configuration reloaded', 10_000, 'reload by the postrotate', n);
    const rotated = fs.readdirSync(logs).filter((f) => f.startsWith('alerts.jsonl-'));
    expect(rotated).toHaveLength(1); // dateext, not compressed yet (delaycompress)
    expect(readAlerts(path.join(logs, rotated[0]!)).map((a) => a.src)).toEqual([ns.nsIp]);

    const src2 = ns.extra[0]!;
    await ns.connectBurst({ sources: [src2], count: 150, portFrom: 8000 });
    await until(() => readAlerts(alerts).some((a) => a.src === src2), 10_000, 'the next alert in a new alerts.jsonl');
    expect(readAlerts(alerts).map((a) => a.src)).toEqual([src2]);
    const fst = fs.statSync(alerts);
    expect(fst.uid).toBe(uid); // created by the daemon, as the service user
    expect(fst.mode & 0o777).toBe(0o640);

    const stop = await d.stop('SIGTERM', 15_000); // TimeoutStopSec=15
    expect(stop.code).toBe(0);
    expect(d.summary()!.alertsWritten).toBe(2);
    await until(() => rs.records().filter((r) => r.procid === String(d!.pid)).length >= 2, 5_000, 'both alerts at rsyslog');
  }, 60_000);
});
