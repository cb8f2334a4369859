/**
 * Runs the built daemon (`node dist/cli/main.js run ...`) as a child process
 * for integration tests: collects its stderr (pino JSON log lines and the
 * plain-text summary), waits for log lines, sends signals by PID, and parses
 * the end-of-run summary. kill() (for afterAll) SIGKILLs it if it is still
 * running; only the process started here is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateAlerts } from './schemas.js';
import { ecsProblems } from './ecs.js';
import type { Netns } from './netns.js';
import { until } from './rsyslog.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(REPO, 'dist/cli/main.js');
export const HAVE_DIST = fs.existsSync(MAIN);

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface Summary {
  /** "alerts written: N" */
  alertsWritten: number;
  /** "alerts raised by kind" table */
  alertsByKind: Record<string, number>;
  /** "events by type" table */
  eventsByType: Record<string, number>;
  packets: number;
  capture: { received: number; dropped: number; ifdropped: number; queueDropped: number; delivered: number } | null;
  text: string;
}

export interface DaemonOptions {
  /** arguments after `run` */
  args: string[];
  /** the command before args (default: this node, dist/cli/main.js, run) — e.g. an installed copy */
  command?: string[];
  env?: Record<string, string>;
  /** run the daemon through this command prefix (e.g. setpriv ...) */
  wrapper?: string[];
  cwd?: string;
}

export class Daemon {
  readonly proc: ChildProcess;
  stderr = '';
  stdout = '';
  readonly started = Date.now();
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(o: DaemonOptions) {
    const argv = [...(o.command ?? [process.execPath, MAIN, 'run']), ...o.args];
    const cmd = o.wrapper ? [...o.wrapper, ...argv] : argv;
    this.proc = spawn(cmd[0]!, cmd.slice(1), {
      cwd: o.cwd ?? REPO,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.exit = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** pino JSON lines from stderr */
  logs(): LogLine[] {
    const out: LogLine[] = [];
    for (const l of this.stderr.split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as LogLine);
      } catch { /* a partial line */ }
    }
    return out;
  }

  /** waits for a log line matching `pred` (at index ≥ `after` in logs()); throws with the stderr on timeout or exit */
  async waitLog(pred: (l: LogLine) => boolean, ms: number, what: string, after = 0): Promise<LogLine> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.logs().slice(after).find(pred);
      if (hit) return hit;
      if (!this.running) throw new Error(`daemon exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}:\n${this.stderr}`);
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.stderr.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  waitStarted(ms = 15_000): Promise<LogLine> {
    return this.waitLog((l) => l.msg === 'capture started', ms, '"capture started"');
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }

  /** sends `sig` and waits up to ms for the exit; returns code, signal and how long it took */
  async stop(sig: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; timedOut: boolean }> {
    const t0 = Date.now();
    this.signal(sig);
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), ms).unref());
    const res = await Promise.race([this.exit, timeout]);
    if (res === null) {
      this.kill();
      const r2 = await this.exit;
      return { ...r2, ms: Date.now() - t0, timedOut: true };
    }
    return { ...res, ms: Date.now() - t0, timedOut: false };
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit;
  }

  /** SIGKILL by PID if still running (afterAll) */
  kill(): void {
    if (this.running) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  summary(): Summary | null {
    const i = this.stderr.indexOf('--- tapwatch summary ---');
    if (i < 0) return null;
    const text = this.stderr.slice(i);
    const tableAfter = (title: string): Record<string, number> => {
      const out: Record<string, number> = {};
      const lines = text.split('\n');
      const k = lines.findIndex((l) => l.startsWith(title + ':'));
      if (k < 0) return out;
      for (let j = k + 1; j < lines.length && lines[j]!.startsWith('  '); j++) {
        const m = /^\s+(\S+)\s+(\d+)$/.exec(lines[j]!);
        if (m) out[m[1]!] = Number(m[2]);
      }
      return out;
    };
    const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    const cap = /capture: received (\d+), dropped by kernel (\d+), by interface (\d+), by the hand-off queue \(not analysed\) (\d+), delivered (\d+)/.exec(text);
    return {
      alertsWritten: num(/alerts written: (\d+)/),
      alertsByKind: tableAfter('alerts raised by kind'),
      eventsByType: tableAfter('events by type'),
      packets: num(/^packets: (\d+)/m),
      capture: cap
        ? { received: +cap[1]!, dropped: +cap[2]!, ifdropped: +cap[3]!, queueDropped: +cap[4]!, delivered: +cap[5]! }
        : null,
      text,
    };
  }
}

/** alert lines of a JSON-lines file ([] when the file does not exist) */
/**
 * The alerts in a daemon's alert file, each checked against
 * schemas/alert.schema.json (json payload) or the ECS field list (ecs
 * payload) as it is read: every daemon test that reads alerts pins the schemas.
 */
export function readAlerts(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  // a line still being written has no newline yet: only whole lines count
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
  const out = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ecs = out.filter((a) => '@timestamp' in a);
  validateAlerts(out.filter((a) => !('@timestamp' in a)), file);
  for (const d of ecs) {
    const p = ecsProblems(d);
    if (p.length) throw new Error(`${file}: ECS alert not ECS: ${p.join('; ')}`);
  }
  return out;
}

/** the detector names in this build's registry (src/detect/index.ts, via dist) */
export async function detectorNames(): Promise<string[]> {
  const mod = (await import(path.join(REPO, 'dist/detect/index.js'))) as { DETECTORS: Array<{ name: string }> };
  return mod.DETECTORS.map((d) => d.name);
}

/**
 * Detector settings for the daemon tests whose bursts must raise one event_rate alert each: every
 * detector (`names`: detectorNames()) but the three generic rules off (size_anomaly and type_frequency cannot fire at these
 * volumes), event_rate at `maxPerSecond`.
 */
export function genericRulesOnly(names: readonly string[], maxPerSecond: number): Record<string, unknown> {
  const detectors: Record<string, unknown> = { event_rate: { maxPerSecond } };
  for (const n of names) if (!['event_rate', 'size_anomaly', 'type_frequency'].includes(n)) detectors[n] = { enabled: false };
  return detectors;
}

/**
 * One burst of `count` connection attempts from each of `srcs` (250 ms apart), waiting until each
 * source's alert is in the alert file; throws when a burst falls short or an alert does not come.
 */
export async function burstEach(ns: Netns, srcs: readonly string[], alerts: string, count: number): Promise<void> {
  for (const s of srcs) {
    const r = await ns.connectBurst({ sources: [s], count, portFrom: 5000 });
    if (r.attempts !== count) throw new Error(`burst from ${s}: ${r.attempts} of ${count} attempts`);
    await until(() => readAlerts(alerts).some((a) => a.src === s), 10_000, `alert for ${s}`);
    await new Promise((r2) => setTimeout(r2, 250));
  }
}
