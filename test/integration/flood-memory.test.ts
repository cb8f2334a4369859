/**
 * A SYN flood from hundreds of thousands of random (spoofed) sources must not
 * grow state without limit anywhere in the pipeline: the flow table holds at
 * most maxFlows (evictions counted) and every detector stays within its caps.
 * And the whole process stays within the memory budget (limits.memoryMiB):
 * the real CLI is run on a generated flood and its peak resident set
 * (VmHWM, read from /proc while it runs, and getrusage's maxRSS it reports
 * itself) is held to the budget, with the summary naming the cap that evicted.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFlood } from '../bench/gen-flood.js';
import { DEFAULT_MEMORY_MIB, flowsForBudget } from '../../src/limits.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection before each heap reading, so the figure is live state, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
import { Pipeline } from '../../src/pipeline.js';
import { buildDetectors } from '../../src/detect/index.js';
import { defaultConfig } from '../../src/config.js';
import { CidrSet } from '../../src/util/cidr.js';

describe('bounded state under a spoofed-source flood', () => {
  it('200,000 SYNs from distinct random sources: flow table capped, evictions counted, heap growth bounded, the flood alerted', () => {
    const cfg = defaultConfig();
    const alerts: string[] = [];
    const p = new Pipeline({
      detectors: buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet) }),
      tracker: { maxFlows: 20_000 },
      onAlert: (a) => alerts.push(`${a.kind} ${a.dst ?? ''}`),
    });
    // One Ethernet/IPv4/TCP SYN frame, rewritten in place per packet (source address and port).
    const f = Buffer.alloc(54);
    f.writeUInt16BE(0x0800, 12);
    f[14] = 0x45; f.writeUInt16BE(40, 16); f[22] = 64; f[23] = 6;
    f.writeUInt32BE(0x0a4d0002, 30); // 10.77.0.2
    f.writeUInt16BE(80, 36); f[46] = 0x50; f[47] = 0x02;
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const N = 200_000;
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) {
      f.writeUInt32BE((rnd() | 0x01000000) >>> 0, 26);
      f.writeUInt16BE(1024 + (rnd() % 60000), 34);
      const t = 1_800_000_000 + i / 100_000; // 100k SYN/s for 2 s of packet time
      const sec = Math.floor(t);
      p.packet(1, sec, Math.round((t - sec) * 1e9), f, 0, 54, 60, 9);
    }
    const st = p.snapshot();
    gc();
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 1048576;
    console.log(`flood: flows active ${st.flows.active}, evicted ${st.flows.evicted}, heap +${heapMb.toFixed(0)} MiB, alerts ${[...new Set(alerts)].join('; ')}`);
    expect(st.flows.active).toBeLessThanOrEqual(20_000);
    expect(st.flows.evicted).toBeGreaterThan(N - 20_000 - 1);
    for (const d of p.detectors) {
      const s = d.stats();
      for (const [k, v] of Object.entries(s)) if (/^(sources|destinations|pairs|hosts|entries|tracked|clients|servers|victims|scanners|keys)$/.test(k)) expect(v, `${d.name}.${k}`).toBeLessThanOrEqual(200_000);
    }
    expect(heapMb).toBeLessThan(250);
    expect(alerts.some((a) => a.startsWith('syn_flood 10.77.0.2'))).toBe(true);
    p.finish();
  });
});

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-flood-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** kB of a "VmHWM:" / "VmRSS:" line of /proc/PID/status, or 0 once the process is gone */
function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/** Runs analyze on `file`; returns its exit code, stderr, the summary JSON and the highest VmHWM seen while it ran (MiB). */
function analyzeWatched(file: string, args: string[]): Promise<{ code: number | null; stderr: string; alerts: string; summary: Record<string, unknown>; hwmMiB: number }> {
  const summaryFile = join(dir, `summary-${Date.now()}.json`);
  return new Promise((done, fail) => {
    const c = spawn(process.execPath, [CLI, 'analyze', file, '--summary-json', summaryFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '', alerts = '', hwm = 0;
    c.stdout.on('data', (b: Buffer) => { alerts += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const poll = setInterval(() => { hwm = Math.max(hwm, statusKb(c.pid!, 'VmHWM')); }, 20);
    c.on('error', fail);
    c.on('close', (code) => {
      clearInterval(poll);
      const summary = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, unknown> : {};
      done({ code, stderr, alerts, summary, hwmMiB: hwm / 1024 });
    });
  });
}

describe('the whole process within the memory budget (limits.memoryMiB)', () => {
  const N = 300_000;
  const flood = join(dir, 'syn-300k.pcap');
  beforeAll(() => { generateFlood({ kind: 'syn', packets: N, rate: 100_000, seed: 7, out: flood }); });

  it(`300,000 SYNs from 300,000 spoofed sources, default settings: peak RSS ≤ ${DEFAULT_MEMORY_MIB} MiB, the flow-table cap evicted and says so, syn_flood alerted`, async () => {
    const r = await analyzeWatched(flood, []);
    expect(r.code, r.stderr).toBe(0);
    const peak = r.summary.peak_rss_mib as number;
    console.log(`flood 300k: VmHWM seen ${r.hwmMiB.toFixed(0)} MiB, reported peak ${peak} MiB (budget ${DEFAULT_MEMORY_MIB})`);
    // the process's own getrusage figure is its VmHWM: the poll can only have seen less
    expect(peak).toBeGreaterThan(0);
    expect(r.hwmMiB).toBeLessThanOrEqual(peak + 1);
    expect(peak).toBeLessThanOrEqual(DEFAULT_MEMORY_MIB);
    const cap = flowsForBudget(DEFAULT_MEMORY_MIB);
    const caps = r.summary.caps as { name: string; key: string; cap: number; entries: number; evicted: number }[];
    const table = caps.find((c) => c.key === 'flows.maxFlows')!;
    expect(table.cap).toBe(cap);
    expect(table.entries).toBeLessThanOrEqual(cap);
    // 3 s of packet time, attempt timeout 5 s: nothing expires, so every flow past the cap was evicted
    expect(table.evicted).toBe(N - cap);
    expect(r.stderr).toContain(`flow table: ${(N - cap).toLocaleString('en-US')} evicted at cap ${cap.toLocaleString('en-US')} (flows.maxFlows`);
    expect(r.stderr).toMatch(/peak memory: \d+ MiB resident/);
    expect(r.alerts).toMatch(/"kind":"syn_flood"[^\n]*"dst":"10\.77\.0\.2"/);
  }, 300_000);

  it('a smaller budget (limits.memoryMiB=256) scales the caps left at their defaults and bounds the process to it', async () => {
    const r = await analyzeWatched(flood, ['--set', 'limits.memoryMiB=256', '--set', 'detectors.port_scan.maxPairs=12345']);
    expect(r.code, r.stderr).toBe(0);
    const peak = r.summary.peak_rss_mib as number;
    console.log(`flood 300k at 256 MiB: VmHWM seen ${r.hwmMiB.toFixed(0)} MiB, reported peak ${peak} MiB`);
    expect(peak).toBeLessThanOrEqual(256);
    const caps = r.summary.caps as { key: string; cap: number; evicted: number }[];
    const table = caps.find((c) => c.key === 'flows.maxFlows')!;
    expect(table.cap).toBe(flowsForBudget(256));
    expect(table.evicted).toBe(N - flowsForBudget(256));
    // a cap set by the user is kept as given
    expect(caps.find((c) => c.key === 'detectors.port_scan.maxPairs')!.cap).toBe(12345);
    expect(r.alerts).toMatch(/"kind":"syn_flood"/);
  }, 300_000);
});
