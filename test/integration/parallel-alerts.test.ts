/**
 * `analyze --workers N` raises the same alerts as the single-thread pipeline:
 * the set of (kind, src, dst, dport, severity, ts to the microsecond) is equal
 * for N = 1, 2 and 4, on every bundled capture, on the public corpus (found as
 * test/conformance does, or TAPWATCH_CORPUS), and on a capture made by the
 * bench generator. And no packet or event is lost between the stages: the
 * workers' packets add up to the packets read, their events to the events
 * the detectors got.
 *
 * Runs the built CLI (the flow workers are dist/parallel/flow-worker.js).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { validateAlerts } from '../helpers/schemas.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findCorpus } from '../helpers/corpus.js';
import { generateCapture } from '../bench/gen-capture.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const LAB = join(ROOT, 'pcaps/lab.json');

interface Run { alerts: string[]; summary: string }

/** Each file on its own (--sequential: one stream, the files one after the other). */
function analyze(files: string[], workers: number): Run {
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--config', LAB, '--sequential', '--workers', String(workers), ...files], {
    encoding: 'utf8', timeout: 300_000, maxBuffer: 256 * 1024 * 1024,
  });
  expect(r.status, r.stderr).toBeLessThanOrEqual(1); // 1: a damaged corpus file, analysed up to the damage
  validateAlerts(r.stdout, `analyze --workers ${workers}`);
  const alerts = r.stdout.split('\n').filter((l) => l !== '').map((l) => {
    const a = JSON.parse(l) as { kind: string; src?: string; dst?: string; dport?: number; severity: string; ts: number };
    return [a.kind, a.src ?? '-', a.dst ?? '-', a.dport ?? '-', a.severity, a.ts.toFixed(6)].join(' ');
  });
  return { alerts: alerts.sort(), summary: r.stderr };
}

function count(summary: string, re: RegExp): number {
  const m = re.exec(summary);
  return m ? Number(m[1]) : NaN;
}

function sameForEveryN(files: string[], minAlerts: number): void {
  const one = analyze(files, 1);
  expect(one.alerts.length).toBeGreaterThanOrEqual(minAlerts);
  for (const n of [2, 4]) {
    const r = analyze(files, n);
    expect(r.alerts, `--workers ${n}`).toEqual(one.alerts);
    // the stage counts add up: packets dispatched = packets read, worker events = events delivered
    const packets = count(r.summary, /^packets: (\d+)/m);
    expect(packets).toBe(count(one.summary, /^packets: (\d+)/m));
    expect(count(r.summary, /^workers: packets (\d+)/m)).toBe(packets);
    expect(count(r.summary, /^workers: .* events (\d+)/m)).toBe(count(r.summary, /^events delivered to the detectors: (\d+)/m));
  }
}

describe('analyze --workers N: the same alerts as one thread', () => {
  it('on every bundled capture', () => {
    const dir = join(ROOT, 'pcaps');
    sameForEveryN(readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(dir, f)), 20);
  }, 600_000);

  const corpus = findCorpus();
  it.skipIf(corpus.dir === null)(`on the public corpus${corpus.dir === null ? ` (skipped: ${corpus.why})` : ''}`, () => {
    const dir = join(corpus.dir!, 'public');
    sameForEveryN(readdirSync(dir).sort().map((f) => join(dir, f)), 5);
  }, 600_000);

  let bench = '';
  beforeAll(() => {
    bench = join(mkdtempSync(join(tmpdir(), 'tapwatch-par-')), 'bench.pcap');
    generateCapture({ packets: 60_000, out: bench, durationSec: 60 });
  });
  it('on a capture made by the bench generator (scans, sweeps, thousands of interleaved flows)', () => {
    sameForEveryN([bench], 3);
  }, 600_000);
});
