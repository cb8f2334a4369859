/**
 * PCAP on alert, read back with tcpdump (`tcpdump -r F -nn`): the pcap an
 * alert names holds the attack's packets.
 *  - analyze on the bundled nmap SYN scan: every SYN of the scanner to the
 *    victim in the capture is in the port_scan's pcap, and nothing of the
 *    SSH brute force the same hosts did a minute later (another alert);
 *    the brute force's pcap holds its connections to port 22;
 *  - off by default: no file, no `pcap` field;
 *  - the caps: a file-size cap cuts the file, maxFiles rotates old files;
 *  - live (`tapwatch run`): a real nmap scan from a network namespace over a
 *    veth pair; the alert's pcap holds its SYNs; after SIGTERM the final
 *    update has rewritten it with all of them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, existsSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Netns, IS_ROOT, HAVE_IP, which } from '../helpers/netns.js';
import { Daemon, HAVE_DIST, readAlerts } from '../helpers/daemon.js';
import { until } from '../helpers/rsyslog.js';
import { captureAvailable } from '../../src/capture/live.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const TCPDUMP = which('tcpdump');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-pcap-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** tcpdump's one line per packet (-nn, -tt: epoch time), with an optional filter */
function tcpdump(file: string, filter: string[] = []): string[] {
  const r = spawnSync(TCPDUMP!, ['-r', file, '-nn', '-tt', ...filter], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}
const SYN = 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn';
type A = Record<string, unknown> & { evidence: Record<string, unknown> };
const alertsOf = (f: string): A[] => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as A);

describe.skipIf(!TCPDUMP)('pcap on alert (analyze)', () => {
  it('writes the packets of the scan behind the port_scan alert, and the brute force behind its own alert', () => {
    const out = join(dir, 'a');
    mkdirSync(out);
    const scanPcap = join(ROOT, 'pcaps/nmap-syn-scan.pcap'), ssh = join(ROOT, 'pcaps/ssh-bruteforce-fail.pcap');
    const r = cli(['analyze', scanPcap, ssh, '--pcap-on-alert', '-o', join(out, 'alerts.jsonl')]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/pcap on alert: 2 files/);
    const alerts = alertsOf(join(out, 'alerts.jsonl')).filter((a) => a.kind !== 'incident');
    const scan = alerts.filter((a) => a.kind === 'port_scan');
    const brute = alerts.filter((a) => a.kind === 'ssh_bruteforce');
    expect(scan.length).toBeGreaterThan(0);
    expect(brute.length).toBeGreaterThan(0);
    // the file carries the alert id; every record of the alert (updates too) names it
    const scanFile = `alert-${String(scan[0]!.id)}.pcap`;
    for (const a of scan) expect(a.pcap).toBe(scanFile);
    const bruteFile = String(brute[0]!.pcap);
    expect(bruteFile).toBe(`alert-${String(brute[0]!.id)}.pcap`);
    expect(readdirSync(out).filter((f) => f.endsWith('.pcap')).sort()).toEqual([scanFile, bruteFile].sort());

    const scanner = String(scan[0]!.src), victim = String(scan[0]!.dst);
    const hosts = ['and', 'src', 'host', scanner, 'and', 'dst', 'host', victim];
    // every SYN of the scanner to the victim in the capture, byte for byte as tcpdump prints it
    const want = tcpdump(scanPcap, [SYN, ...hosts]);
    expect(want.length).toBe(1000);
    const got = tcpdump(join(out, scanFile), [SYN, ...hosts]);
    expect(got).toEqual(want);
    // and the victim's answers (RST or SYN-ACK) to them; nothing of the brute force a minute later
    expect(tcpdump(join(out, scanFile), ['tcp', 'and', 'src', 'host', victim])).toEqual(tcpdump(scanPcap, ['tcp', 'and', 'src', 'host', victim]));
    expect(tcpdump(join(out, scanFile), ['port', '22', 'and', 'greater', '100'])).toEqual([]);

    // the brute force: its connections to port 22 (each SYN of the capture), time-ordered
    const bruteSyns = tcpdump(join(out, bruteFile), [SYN]);
    expect(bruteSyns).toEqual(tcpdump(ssh, [SYN, 'and', 'dst', 'port', '22']));
    expect(bruteSyns.length).toBeGreaterThanOrEqual(10);
    const ts = tcpdump(join(out, bruteFile)).map((l) => Number(l.split(' ')[0]));
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
  });

  it('names the file in ECS (tapwatch.pcap) and CEF (fname) payloads too', () => {
    for (const payload of ['ecs', 'cef']) {
      const out = join(dir, payload);
      mkdirSync(out);
      const r = cli(['analyze', join(ROOT, 'pcaps/nmap-syn-scan.pcap'), '-q', '--pcap-on-alert', '--payload', payload, '-o', join(out, 'alerts.txt')]);
      expect(r.code, r.err).toBe(0);
      const file = readdirSync(out).find((f) => f.endsWith('.pcap'))!;
      expect(file).toMatch(/^alert-A[0-9A-Za-z]+\.pcap$/);
      const text = readFileSync(join(out, 'alerts.txt'), 'utf8');
      if (payload === 'cef') expect(text).toContain(`fname=${file} `);
      else expect(text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { tapwatch: { pcap?: string } }).tapwatch.pcap)).toContain(file);
    }
  });

  it('is off by default: no file, no pcap field', () => {
    const out = join(dir, 'off');
    mkdirSync(out);
    const r = cli(['analyze', join(ROOT, 'pcaps/nmap-syn-scan.pcap'), '-q', '-o', join(out, 'alerts.jsonl')]);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out)).toEqual(['alerts.jsonl']);
    expect(alertsOf(join(out, 'alerts.jsonl')).every((a) => a.pcap === undefined)).toBe(true);
  });

  it('caps each file and rotates by count, also over files of an earlier run', () => {
    const out = join(dir, 'caps');
    const base = ['--pcap-dir', out, '-o', join(dir, 'caps-alerts.jsonl'), '--set', 'alerts.pcap.fileBytes=20000'];
    let r = cli(['analyze', join(ROOT, 'pcaps/nmap-syn-scan.pcap'), ...base]);
    expect(r.code, r.err).toBe(0);
    const first = readdirSync(out);
    expect(first).toHaveLength(1);
    expect(statSync(join(out, first[0]!)).size).toBeLessThanOrEqual(20000);
    expect(tcpdump(join(out, first[0]!)).length).toBeGreaterThan(100); // cut, still a valid capture
    expect(r.err).toMatch(/packets left out by the caps: [1-9]/);
    // a second run with maxFiles 1: its file replaces the earlier run's
    r = cli(['analyze', join(ROOT, 'pcaps/ssh-bruteforce-fail.pcap'), ...base, '--set', 'alerts.pcap.maxFiles=1']);
    expect(r.code, r.err).toBe(0);
    const second = readdirSync(out);
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    expect(r.err).toMatch(/rotated out: 1/);
  });

  it('refuses flow workers (the ring lives with the flows): one line, exit 2', () => {
    const r = cli(['analyze', join(ROOT, 'pcaps/nmap-syn-scan.pcap'), '--pcap-on-alert', '--workers', '2', '-o', join(dir, 'w.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tapwatch: alerts\.pcap\.enabled .*needs flows\.workers 1.*\n$/);
  });
});

const avail = captureAvailable();
const SKIP_LIVE = !IS_ROOT ? 'not running as root (network namespace, live capture)'
  : !HAVE_IP ? 'iproute2 (ip) not found'
  : !avail.ok ? avail.reason
  : !which('nmap') ? 'nmap not found'
  : !TCPDUMP ? 'tcpdump not found'
  : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first' : '';
if (SKIP_LIVE) console.log(`SKIP pcap on alert (run): ${SKIP_LIVE}`);

describe.skipIf(!!SKIP_LIVE)('pcap on alert (run, live capture)', () => {
  let ns: Netns | undefined;
  let d: Daemon | undefined;
  const root = join(dir, 'live');

  beforeAll(() => { mkdirSync(root); ns = Netns.create(); });
  afterAll(() => { d?.kill(); ns?.destroySync(); if (!process.env.TAPWATCH_KEEP_TMP) rmSync(dir, { recursive: true, force: true }); });

  it('writes the scan SYNs of a real nmap scan next to the alert file', async () => {
    const alerts = join(root, 'alerts.jsonl');
    d = new Daemon({ args: ['-i', ns!.hostIf, '-o', alerts, '--pcap-on-alert'], env: { STATE_DIRECTORY: join(root, 'state') } });
    await d.waitStarted();
    const scan = await ns!.nmapScan(300);
    expect(scan.code, scan.stderr).toBe(0);
    const mine = (a: Record<string, unknown>) => a.kind === 'port_scan' && a.src === ns!.nsIp && typeof a.pcap === 'string';
    await until(() => readAlerts(alerts).some(mine), 15_000, 'a port_scan alert naming its pcap');
    const first = readAlerts(alerts).find(mine)!;
    const file = join(root, String(first.pcap));
    expect(existsSync(file)).toBe(true);
    const hosts = ['and', 'src', 'host', ns!.nsIp, 'and', 'dst', 'host', ns!.hostIp];
    const atAlert = tcpdump(file, [SYN, ...hosts]);
    // what made the alert: a SYN to each port it counted (15 failed ports, or scanlogd weight 21 = 7 privileged ones)
    expect(atAlert.length).toBeGreaterThanOrEqual(Number(first.evidence && (first.evidence as Record<string, unknown>).distinct_ports));
    expect(atAlert.length).toBeGreaterThanOrEqual(7);
    const stop = await d.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    // the final update rewrote the file with the whole scan: one SYN per scanned port
    const syns = tcpdump(file, [SYN, ...hosts]);
    const ports = new Set(syns.map((l) => l.match(/ > [\d.]+\.(\d+):/)![1]));
    expect(ports.size).toBe(scan.ports);
    expect(d.stderr).toMatch(/pcap on alert: [1-9]\d* files?/);
  }, 60_000);
});
