/**
 * `analyze a.pcap b.pcap` merges its inputs by packet time. Each bundled
 * capture is split by flow into two files with tcpdump read filters (on a
 * bit of the port sum, which both directions of a flow share, so every flow
 * stays whole in one file; not the lowest bit: Linux picks even ephemeral
 * ports), as two taps on two links would have recorded it; the
 * two halves together must give exactly the alerts of the original capture.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { validateAlerts } from '../helpers/schemas.js';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { which } from '../helpers/netns.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const LAB = join(ROOT, 'pcaps/lab.json');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-merge-'));

// uids and alert ids are random per run unless seeded (as Zeek's): a fixed seed makes two runs comparable
function analyze(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--config', LAB, '--uid-seed', 'merge-test', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Alerts without the per-run counters: uids (and the alert ids drawn from the same
 * sequence) number flows in creation order, and two packets of equal timestamp in
 * different files may be merged in the other order. Community IDs are content
 * hashes, so they are compared as a set.
 */
function norm(out: string): unknown[] {
  validateAlerts(out, 'analyze (merged)');
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const a = JSON.parse(l) as Record<string, unknown> & { evidence?: Record<string, unknown> };
    delete a.id; delete a.uid;
    if (a.evidence) {
      delete a.evidence.uids;
      if (Array.isArray(a.evidence.community_ids)) a.evidence.community_ids = [...a.evidence.community_ids as string[]].sort();
    }
    return a;
  });
}

const EVEN = "(tcp and ((tcp[0:2] + tcp[2:2]) >> 1) & 1 = 0) or (udp and ((udp[0:2] + udp[2:2]) >> 1) & 1 = 0) or not (tcp or udp)";

function split(name: string): [string, string] {
  const src = join(ROOT, 'pcaps', name);
  const a = join(dir, `${name}.even.pcap`), b = join(dir, `${name}.odd.pcap`);
  execFileSync('tcpdump', ['-r', src, '-w', a, EVEN], { stdio: 'ignore', timeout: 20_000 });
  execFileSync('tcpdump', ['-r', src, '-w', b, `not (${EVEN})`], { stdio: 'ignore', timeout: 20_000 });
  return [a, b];
}

/** the timestamps leading the text table's alert lines */
const alertTimes = (out: string): string[] => out.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT/.test(l)).map((l) => l.slice(0, 27));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const packets = (err: string): number => Number(/^packets: (\d+)/m.exec(err)?.[1]);

describe.skipIf(!which('tcpdump'))('analyze FILE FILE: one timeline, merged by packet time', () => {
  for (const name of ['ssh-bruteforce-success.pcap', 'nmap-syn-scan.pcap', 'http-path-scan.pcap', 'ssh-bruteforce-fail.pcap']) {
    it(`${name} split by flow into two files: the same alerts as the single file, no out-of-order packets`, () => {
      const [a, b] = split(name);
      const whole = analyze([join(ROOT, 'pcaps', name)]);
      const merged = analyze([a, b]);
      const reversed = analyze([b, a]);
      expect(whole.code).toBe(0);
      expect(merged.code).toBe(0);
      expect(whole.out.trim()).not.toBe('');
      expect(norm(merged.out)).toEqual(norm(whole.out));
      expect(norm(reversed.out)).toEqual(norm(whole.out));
      // both halves really hold packets, and together all of them
      const pa = Number(new RegExp(`file ${a}: (\\d+) packets`).exec(merged.err)?.[1]);
      const pb = Number(new RegExp(`file ${b}: (\\d+) packets`).exec(merged.err)?.[1]);
      expect(pa).toBeGreaterThan(0);
      expect(pb).toBeGreaterThan(0);
      expect(pa + pb).toBe(packets(whole.err));
      expect(merged.err).not.toMatch(/out-of-order/);
    });
  }

  it('--sequential reads one file after the other: the clock jumps back, counted as out-of-order', () => {
    const [a, b] = split('ssh-bruteforce-success.pcap');
    const r = analyze(['--sequential', b, a]); // b runs to the end of the capture, a starts near its beginning
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/out-of-order packets \(more than 1 s back in time\): [1-9]/);
  });

  it('the text alert table is in packet-time order even when the inputs are not (--sequential, later file first)', () => {
    const late = join(ROOT, 'pcaps/ssh-bruteforce-success.pcap'), early = join(ROOT, 'pcaps/nmap-syn-scan.pcap');
    const r = analyze(['--sequential', '--format', 'text', late, early]);
    const times = alertTimes(r.out);
    expect(times.length).toBeGreaterThan(2);
    expect([...times].sort()).toEqual(times);
  });

  it('the bundled captures together: no out-of-order packets and a text alert table in time order', () => {
    const all = ['ssh-bruteforce-success.pcap', 'nmap-syn-scan.pcap', 'hping3-syn-flood.pcap', 'dns-tunnel.pcap', 'beacon.pcap'].map((f) => join(ROOT, 'pcaps', f));
    const r = analyze(['--format', 'text', ...all]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/out-of-order/);
    const times = alertTimes(r.out);
    expect(times.length).toBeGreaterThan(5);
    expect([...times].sort()).toEqual(times);
  });

  it('events of the merged halves equal the single file\'s, line for line', () => {
    const [a, b] = split('http-path-scan.pcap');
    const e1 = join(dir, 'whole.jsonl'), e2 = join(dir, 'merged.jsonl');
    analyze(['-q', '--events', e1, join(ROOT, 'pcaps/http-path-scan.pcap')]);
    analyze(['-q', '--events', e2, a, b]);
    expect(readFileSync(e2, 'utf8')).toBe(readFileSync(e1, 'utf8'));
  });
});
