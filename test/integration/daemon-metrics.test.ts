/**
 * The daemon's Prometheus endpoint, scraped with a real HTTP client (curl)
 * during a live `run` on the host end of a veth pair while a namespace sends
 * a burst of refused connections: the counters are the daemon's own (they
 * grow with the traffic and end at the summary's figures), with labels per
 * event type, alert kind, drop cause, detector and output. Off by default;
 * a bad or busy listen address is one clear line, exit 2.
 *
 * Needs root, the capture addon, curl and dist/; skipped with the reason otherwise.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Netns, IS_ROOT, HAVE_IP, which } from '../helpers/netns.js';
import { Daemon, HAVE_DIST, readAlerts } from '../helpers/daemon.js';
import { captureAvailable } from '../../src/capture/live.js';

const avail = captureAvailable();
const SKIP = !IS_ROOT ? 'not running as root' : !HAVE_IP ? 'iproute2 (ip) not found' : !avail.ok ? avail.reason
  : !which('curl') ? 'curl not found' : !HAVE_DIST ? 'dist/cli/main.js missing: run npm run build first' : '';
if (SKIP) console.log(`SKIP daemon metrics: ${SKIP}`);

/** TCP ports the process listens on (ss -ltnp) */
function listening(pid: number): string[] {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8', timeout: 5_000 });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.split(/\s+/)[3]!);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function scrape(url: string): { status: string; type: string; body: string } {
  const out = execFileSync('curl', ['-sS', '-m', '5', '-D', '-', url], { encoding: 'utf8', timeout: 10_000 });
  const [head, ...rest] = out.split('\r\n\r\n');
  return { status: head!.split('\r\n')[0]!, type: /content-type: (.*)/i.exec(head!)?.[1] ?? '', body: rest.join('\r\n\r\n') };
}

/** value of one sample, e.g. metric(body, 'tapwatch_events_total', { type: 'tcp_syn' }) */
function metric(body: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of body.split('\n')) {
    if (!line.startsWith(name + (Object.keys(labels).length ? '{' : ' '))) continue;
    const l = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!l) continue;
    const have = Object.fromEntries([...(l[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(l[2]);
  }
  return NaN;
}

describe.skipIf(!!SKIP)('tapwatch run --metrics: Prometheus endpoint', () => {
  let root = '';
  let ns: Netns | undefined;
  const daemons: Daemon[] = [];

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-it-metrics-'));
    ns = Netns.create({ extraSources: 2 });
  });
  afterAll(() => {
    for (const d of daemons) d.kill();
    ns?.destroySync();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('serves the daemon\'s counters while it runs; they grow with traffic and end at the summary\'s figures', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const alerts = path.join(root, 'alerts.jsonl');
    const d = new Daemon({ args: ['-i', ns!.hostIf, '-o', alerts, '--metrics', `127.0.0.1:${port}`, '--set', 'detectors.event_rate.maxPerSecond=50'], env: { STATE_DIRECTORY: path.join(root, 'state') } });
    daemons.push(d);
    const started = await d.waitStarted();
    expect(started.metrics).toBe(`127.0.0.1:${port}`);
    if (which('ss')) expect(listening(d.pid)).toEqual([`127.0.0.1:${port}`]);

    const first = scrape(url);
    expect(first.status).toMatch(/^HTTP\/1\.1 200/);
    expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(first.body).toMatch(/^# TYPE tapwatch_packets_total counter$/m);
    expect(first.body).toMatch(/^# TYPE tapwatch_flows_active gauge$/m);
    const p0 = metric(first.body, 'tapwatch_packets_total');
    expect(p0).toBeGreaterThanOrEqual(0);
    for (const cause of ['kernel', 'interface', 'queue', 'shutdown']) expect(metric(first.body, 'tapwatch_packets_dropped_total', { cause })).toBe(0);
    expect(metric(first.body, 'tapwatch_detector_stat', { detector: 'port_scan', stat: 'pairs' })).toBe(0);
    expect(metric(first.body, 'tapwatch_output_stat', { output: `file:${alerts}`, stat: 'written' })).toBe(0);
    expect(metric(first.body, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    const burst = await ns!.connectBurst({ sources: ns!.extra, count: 120 });
    expect(burst.refused).toBeGreaterThan(200);
    // wait for the events to be analysed and counted
    const end = Date.now() + 10_000;
    let body = '';
    for (;;) {
      body = scrape(url).body;
      if (metric(body, 'tapwatch_events_total', { type: 'conn_rejected' }) >= 200 && metric(body, 'tapwatch_alerts_raised_total', { kind: 'event_rate' }) >= 1) break;
      if (Date.now() > end) throw new Error(`counters did not move:\n${body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(metric(body, 'tapwatch_packets_total')).toBeGreaterThan(p0 + 400);
    expect(metric(body, 'tapwatch_capture_received_total')).toBeGreaterThanOrEqual(metric(body, 'tapwatch_packets_total'));
    expect(metric(body, 'tapwatch_events_total', { type: 'tcp_syn' })).toBeGreaterThanOrEqual(200);
    expect(metric(body, 'tapwatch_flows_created_total')).toBeGreaterThanOrEqual(200);
    expect(metric(body, 'tapwatch_detector_stat', { detector: 'event_rate', stat: 'alerts' })).toBeGreaterThanOrEqual(1);
    expect(metric(body, 'tapwatch_packet_time_seconds')).toBeGreaterThan(1.7e9);
    await new Promise((r) => setTimeout(r, 300));
    const last = scrape(url).body;
    expect(metric(last, 'tapwatch_output_stat', { output: `file:${alerts}`, stat: 'delivered' })).toBe(readAlerts(alerts).length);

    const stop = await d.stop('SIGTERM');
    expect(stop.code).toBe(0);
    const s = d.summary()!;
    expect(metric(last, 'tapwatch_packets_total')).toBeLessThanOrEqual(s.packets);
    expect(metric(last, 'tapwatch_events_total', { type: 'conn_rejected' })).toBeLessThanOrEqual(s.eventsByType.conn_rejected!);
    expect(metric(last, 'tapwatch_alerts_raised_total', { kind: 'event_rate' })).toBeLessThanOrEqual(s.alertsByKind.event_rate!);
    // the endpoint closes with the daemon
    expect(() => execFileSync('curl', ['-sS', '-m', '2', url], { stdio: 'pipe' })).toThrow();
  }, 60_000);

  it('is off by default: nothing listens', async () => {
    const d = new Daemon({ args: ['-i', ns!.hostIf], env: { STATE_DIRECTORY: path.join(root, 'state2') } });
    daemons.push(d);
    const started = await d.waitStarted();
    expect(started.metrics).toBeNull();
    if (which('ss')) expect(listening(d.pid)).toEqual([]);
    expect((await d.stop()).code).toBe(0);
  }, 30_000);

  it('a bad address or a port in use: one line naming daemon.metrics, exit 2', async () => {
    const bad = new Daemon({ args: ['-i', ns!.hostIf, '--metrics', 'localhost'] });
    daemons.push(bad);
    expect((await bad.waitExit()).code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^tapwatch: --metrics: daemon\.metrics: "localhost": expected host:port/);
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const busy = new Daemon({ args: ['-i', ns!.hostIf, '--metrics', `127.0.0.1:${port}`] });
      daemons.push(busy);
      expect((await busy.waitExit()).code).toBe(2);
      expect(busy.stderr).toMatch(new RegExp(`tapwatch: daemon\\.metrics: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
      expect(busy.stderr).not.toMatch(/internal error|    at /);
    } finally {
      holder.close();
    }
  }, 30_000);
});
