/**
 * End-to-end benchmark: tapwatch against tcpdump (bare read: the ceiling) and
 * tshark (a full dissector: a peer), same capture, same run.
 *
 *   npm run bench                 build, compile the bench, run it
 *   node dist-bench/bench.js [--regen] [--packets N] [--runs N] [--timeout SEC]
 *                            [--no-readers] [--rss time|proc] [--file PCAP] [--cli JS]
 *
 * The capture is bench-data/bench.pcap, generated (test/bench/gen-capture.ts)
 * when missing, when its metadata does not match this generator or the
 * requested --packets, or with --regen. The packet count comes from the
 * generator's metadata (bench-data/bench.meta.json), or from walking the
 * record headers when there is none.
 *
 * Measurement, per run of each whole process:
 *  - wall time: process.hrtime around spawn..exit (ms resolution; GNU time's own
 *    %e, centiseconds, is kept in the JSON as a cross-check);
 *  - peak RSS: GNU time's %M (the kernel's ru_maxrss of the child, KiB), run as
 *    `/usr/bin/time -f '%e %M' -o TMP cmd...`. Without GNU time (Debian package
 *    `time`) the bench installs it when running as root, otherwise it says how
 *    to, and falls back to polling /proc/PID/status VmHWM every 10 ms
 *    (`--rss proc` forces that method).
 * Runs are interleaved (run 1 of every tool, then run 2, ...) after one warm-up
 * read of the file, so every tool sees it in the page cache. Reported: min and
 * median wall time, packets/s at the median, max peak RSS over the runs.
 *
 * Results: a table on stdout and bench-data/results.json. Then the reader
 * micro-benchmark (reader-compare.ts) runs on the same file (skip: --no-readers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { DEFAULT_OUT, DEFAULT_PACKETS, GENERATOR_VERSION, ROOT, generateCapture, metaPathFor, type GenMeta } from './gen-capture.js';
import { runReaderCompare, table, type ReaderSummary } from './reader-compare.js';

const DEFAULT_CLI = resolve(ROOT, 'dist/cli/main.js');
const RESULTS = resolve(ROOT, 'bench-data/results.json');
const GNU_TIME = '/usr/bin/time';

interface Options {
  file: string;
  regen: boolean;
  packets: number | undefined;
  runs: number;
  timeoutSec: number;
  readers: boolean;
  rss: 'time' | 'proc' | 'auto';
  cli: string;
}

interface Tool {
  name: string;
  role: string;
  cmd: string;
  args: string[];
  /** why it cannot run, if it cannot */
  unavailable?: string;
  version?: string;
}

interface Run {
  seconds: number;
  peakRssKiB: number;
  gnuTimeSeconds?: number;
}

interface ToolResult {
  tool: string;
  role: string;
  command: string;
  version?: string;
  status: 'ok' | 'unavailable' | 'failed';
  note?: string;
  runs: Run[];
  minSeconds?: number;
  medianSeconds?: number;
  packetsPerSec?: number;
  peakRssMiB?: number;
}

// ---------------------------------------------------------------- helpers

function log(s: string): void {
  process.stdout.write(s + '\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { file: DEFAULT_OUT, regen: false, packets: undefined, runs: 3, timeoutSec: 600, readers: true, rss: 'auto', cli: DEFAULT_CLI };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--regen':
        o.regen = true;
        break;
      case '--packets':
        o.packets = Number(val().replace(/_/g, ''));
        if (!Number.isInteger(o.packets) || o.packets < 1) throw new Error('--packets must be a positive integer');
        break;
      case '--runs':
        o.runs = Number(val());
        if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a positive integer');
        break;
      case '--timeout':
        o.timeoutSec = Number(val());
        break;
      case '--no-readers':
        o.readers = false;
        break;
      case '--rss': {
        const v = val();
        if (v !== 'time' && v !== 'proc' && v !== 'auto') throw new Error('--rss is time, proc or auto');
        o.rss = v;
        break;
      }
      case '--file':
        o.file = resolve(val());
        break;
      case '--cli':
        o.cli = resolve(val());
        break;
      case '-h':
      case '--help':
        log('usage: node dist-bench/bench.js [--regen] [--packets N] [--runs N] [--timeout SEC] [--no-readers] [--rss time|proc] [--file PCAP] [--cli dist/cli/main.js]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

/** Path relative to the repository when inside it, else absolute. */
function rel(p: string): string {
  const r = relative(ROOT, p);
  return r.startsWith('..') ? p : r;
}

function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l.length > 0 && !l.startsWith('Running as user'));
}

/** GNU time present (installing it as root if need be)? */
function ensureGnuTime(): boolean {
  const isGnu = (): boolean => (firstLine(GNU_TIME, ['--version']) ?? '').includes('GNU');
  if (isGnu()) return true;
  if (process.getuid?.() === 0) {
    log(`${GNU_TIME} (GNU time) missing: running apt-get install -y time ...`);
    let r = spawnSync('apt-get', ['install', '-y', '-q', 'time'], { stdio: 'ignore', timeout: 180_000 });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore', timeout: 300_000 });
      r = spawnSync('apt-get', ['install', '-y', '-q', 'time'], { stdio: 'ignore', timeout: 180_000 });
    }
    if (isGnu()) return true;
    log('  apt-get install time failed; measuring peak RSS from /proc/PID/status VmHWM instead');
  } else {
    log(`${GNU_TIME} (GNU time) missing: install it with "sudo apt-get install time". Measuring peak RSS from /proc/PID/status VmHWM instead.`);
  }
  return false;
}

/** Count records by walking the 16-byte headers (the `tcpdump -r FILE | wc -l` of this bench). */
function countPackets(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(24);
    if (readSync(fd, head, 0, 24, 0) < 24) throw new Error(`${file}: shorter than a pcap header`);
    const m = head.readUInt32LE(0);
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    if (!le && head.readUInt32BE(0) !== 0xa1b2c3d4 && head.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a classic pcap file`);
    const size = statSync(file).size;
    const hdr = Buffer.alloc(16);
    let pos = 24;
    let n = 0;
    while (pos + 16 <= size) {
      readSync(fd, hdr, 0, 16, pos);
      pos += 16 + (le ? hdr.readUInt32LE(8) : hdr.readUInt32BE(8));
      if (pos <= size) n++;
    }
    return n;
  } finally {
    closeSync(fd);
  }
}

/** Read the file once so that every measured run finds it in the page cache. */
function warmCache(file: string): void {
  const fd = openSync(file, 'r');
  const b = Buffer.allocUnsafe(8 << 20);
  try {
    while (readSync(fd, b, 0, b.length, null) > 0) {
      /* discard */
    }
  } finally {
    closeSync(fd);
  }
}

function readMeta(file: string): GenMeta | undefined {
  try {
    return JSON.parse(readFileSync(metaPathFor(file), 'utf8')) as GenMeta;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- capture

function prepareCapture(o: Options): { packets: number; bytes: number; meta?: GenMeta } {
  const want = o.packets ?? DEFAULT_PACKETS;
  let meta = readMeta(o.file);
  const size = existsSync(o.file) ? statSync(o.file).size : -1;
  const isDefault = o.file === DEFAULT_OUT;
  let why = '';
  if (o.regen) why = '--regen';
  else if (size < 0) why = 'missing';
  else if (isDefault && meta === undefined) why = 'no metadata';
  else if (isDefault && meta !== undefined && meta.bytes !== size) why = 'metadata does not match the file';
  else if (isDefault && meta !== undefined && meta.generatorVersion !== GENERATOR_VERSION) why = `generator changed (v${meta.generatorVersion} -> v${GENERATOR_VERSION})`;
  else if (isDefault && meta !== undefined && meta.packets !== want) why = `${meta.packets} packets, ${want} wanted`;
  if (why !== '') {
    log(`Generating ${rel(o.file)} (${why}): ${want.toLocaleString('en-US')} packets ...`);
    meta = generateCapture({ packets: want, out: o.file, progress: (n) => process.stdout.write(`\r  ${n.toLocaleString('en-US')} packets`) });
    process.stdout.write('\r');
    log(`  ${meta.packets.toLocaleString('en-US')} packets, ${(meta.bytes / 2 ** 20).toFixed(1)} MiB, ${meta.spanSec} s of traffic, ${meta.distinctHosts.toLocaleString('en-US')} hosts, in ${meta.genSeconds} s`);
    return { packets: meta.packets, bytes: meta.bytes, meta };
  }
  if (meta !== undefined && meta.bytes === size) return { packets: meta.packets, bytes: size, meta };
  log(`Counting packets in ${o.file} (no generator metadata) ...`);
  return { packets: countPackets(o.file), bytes: size };
}

// ---------------------------------------------------------------- tools

function tools(file: string, cli: string): Tool[] {
  const node = process.execPath;
  const list: Tool[] = [
    { name: 'tcpdump', role: 'bare read (ceiling)', cmd: 'tcpdump', args: ['-r', file, '-w', '/dev/null'] },
    // -n: never resolve names, so no run waits on DNS (IP resolution is off by default anyway)
    { name: 'tshark', role: 'full dissector (peer)', cmd: 'tshark', args: ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number'] },
    { name: 'tapwatch', role: 'all stages + event log', cmd: node, args: [cli, 'analyze', file, '--output', '/dev/null', '--events', '/dev/null'] },
    { name: 'tapwatch-noev', role: 'all stages, no event log', cmd: node, args: [cli, 'analyze', file, '--output', '/dev/null'] },
  ];
  for (const t of list) {
    if (t.name.startsWith('tapwatch')) {
      if (!existsSync(cli)) t.unavailable = `${rel(cli)} not built yet (the CLI is not in src/cli/main.ts, or "npm run build" did not produce it)`;
      else t.version = `node ${process.version}`;
      continue;
    }
    const v = firstLine(t.cmd, ['--version']);
    if (v === undefined) t.unavailable = `${t.cmd} not found: apt-get install ${t.cmd}`;
    else t.version = v;
  }
  return list;
}

function quote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function vmHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** One measured run of a whole process; stdout to /dev/null, stderr kept for errors. */
function measure(t: Tool, useGnuTime: boolean, timeoutSec: number, tmp: string): Promise<Run> {
  return new Promise((res, rej) => {
    const timeFile = join(tmp, 'time.out');
    rmSync(timeFile, { force: true });
    const [cmd, args] = useGnuTime ? [GNU_TIME, ['-f', '%e %M', '-o', timeFile, t.cmd, ...t.args]] : [t.cmd, t.args];
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    // own process group, so a timeout kills the tool and not just /usr/bin/time
    const child = spawn(cmd, args, { stdio: ['ignore', devnull, 'pipe'], detached: true });
    closeSync(devnull);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    let hwm = 0;
    let timedOut = false;
    const poll = useGnuTime
      ? undefined
      : setInterval(() => {
          const v = child.pid !== undefined ? vmHwm(child.pid) : undefined;
          if (v !== undefined && v > hwm) hwm = v;
        }, 10);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutSec * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      rej(e);
    });
    child.on('exit', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const tail = err.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('Running as user')).slice(-3).join(' | ');
      if (timedOut) return rej(new Error(`timed out after ${timeoutSec} s (raise --timeout)`));
      if (code !== 0) return rej(new Error(`exit ${code ?? signal}${tail ? `: ${tail}` : ''}`));
      if (!useGnuTime) return res({ seconds, peakRssKiB: hwm });
      let line: string | undefined;
      try {
        line = readFileSync(timeFile, 'utf8').trim().split('\n').pop();
      } catch {
        /* handled below */
      }
      const m = line !== undefined ? /^([\d.]+) (\d+)$/.exec(line) : null;
      if (m === null) return rej(new Error(`could not read GNU time output (${line ?? 'none'})`));
      res({ seconds, peakRssKiB: Number(m[2]), gnuTimeSeconds: Number(m[1]) });
    });
  });
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const cap = prepareCapture(o);
  const useGnuTime = o.rss === 'proc' ? false : ensureGnuTime();
  if (o.rss === 'time' && !useGnuTime) throw new Error('--rss time: GNU time is not available');
  const method = useGnuTime
    ? "wall: process.hrtime around spawn..exit; peak RSS: GNU time %M (/usr/bin/time -f '%e %M' -o FILE)"
    : 'wall: process.hrtime around spawn..exit; peak RSS: /proc/PID/status VmHWM polled every 10 ms';
  const list = tools(o.file, o.cli);
  const results: ToolResult[] = list.map((t) => {
    const r: ToolResult = { tool: t.name, role: t.role, command: quote([t.cmd === process.execPath ? 'node' : t.cmd, ...t.args]), status: t.unavailable ? 'unavailable' : 'ok', runs: [] };
    if (t.version !== undefined) r.version = t.version;
    if (t.unavailable !== undefined) r.note = t.unavailable;
    return r;
  });

  log(`\nCapture: ${rel(o.file)}: ${cap.packets.toLocaleString('en-US')} packets, ${(cap.bytes / 2 ** 20).toFixed(1)} MiB`);
  log(`Runs: ${o.runs} per tool, interleaved, timeout ${o.timeoutSec} s each. ${method}`);
  for (const r of results) if (r.status === 'unavailable') log(`  ${r.tool}: skipped: ${r.note}`);
  warmCache(o.file);

  const tmp = mkdtempSync(join(tmpdir(), 'tapwatch-bench-'));
  try {
    for (let i = 0; i < o.runs; i++) {
      for (let k = 0; k < list.length; k++) {
        const t = list[k]!;
        const r = results[k]!;
        if (r.status !== 'ok') continue;
        process.stdout.write(`  run ${i + 1}/${o.runs} ${t.name.padEnd(13)} `);
        try {
          const run = await measure(t, useGnuTime, o.timeoutSec, tmp);
          r.runs.push(run);
          log(`${run.seconds.toFixed(3)} s  ${(run.peakRssKiB / 1024).toFixed(1)} MiB`);
        } catch (e) {
          r.status = 'failed';
          r.note = (e as Error).message;
          log(`FAILED: ${r.note}`);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  for (const r of results) {
    if (r.runs.length === 0 || r.status !== 'ok') continue;
    const secs = r.runs.map((x) => x.seconds);
    r.minSeconds = Math.min(...secs);
    r.medianSeconds = median(secs);
    r.packetsPerSec = cap.packets / r.medianSeconds;
    r.peakRssMiB = Math.max(...r.runs.map((x) => x.peakRssKiB)) / 1024;
  }

  // table
  const rows: string[][] = [['tool', 'packets', 'min s', 'median s', 'packets/s', 'peak RSS MiB']];
  for (const r of results) {
    if (r.medianSeconds === undefined) rows.push([r.tool, `${r.status}: ${r.note ?? ''}`]);
    else rows.push([r.tool, String(cap.packets), r.minSeconds!.toFixed(3), r.medianSeconds.toFixed(3), Math.round(r.packetsPerSec!).toLocaleString('en-US'), r.peakRssMiB!.toFixed(1)]);
  }
  log(`\nResults (${o.runs} run(s) each; packets/s at the median; peak RSS = max over runs):`);
  for (const l of table(rows)) log(l);

  const by = (n: string): ToolResult | undefined => results.find((r) => r.tool === n && r.medianSeconds !== undefined);
  const ratios: Record<string, { time: number; memory: number }> = {};
  const ratioRows: string[][] = [['ratio', 'time (median)', 'peak RSS']];
  for (const tw of ['tapwatch', 'tapwatch-noev']) {
    for (const peer of ['tcpdump', 'tshark']) {
      const a = by(tw);
      const b = by(peer);
      if (a === undefined || b === undefined) continue;
      const time = a.medianSeconds! / b.medianSeconds!;
      const memory = a.peakRssMiB! / b.peakRssMiB!;
      ratios[`${tw}/${peer}`] = { time, memory };
      ratioRows.push([`${tw}/${peer}`, `${time.toFixed(2)}x`, `${memory.toFixed(2)}x`]);
    }
  }
  if (ratioRows.length > 1) {
    log('');
    for (const l of table(ratioRows)) log(l);
  } else {
    log('\n  (no tapwatch/tcpdump or tapwatch/tshark ratios: a row is missing)');
  }

  let readers: ReaderSummary[] | undefined;
  if (o.readers) {
    log('');
    readers = await runReaderCompare({ file: o.file, runs: o.runs, timeoutSec: o.timeoutSec, expectPackets: cap.packets, log });
  }

  const out = {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30) },
    capture: { file: rel(o.file), packets: cap.packets, bytes: cap.bytes, ...(cap.meta !== undefined ? { spanSec: cap.meta.spanSec, distinctHosts: cap.meta.distinctHosts, seed: cap.meta.seed, flows: cap.meta.flows } : {}) },
    runsPerTool: o.runs,
    method,
    tools: results,
    ratios,
    ...(readers !== undefined ? { readers } : {}),
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  log(`\nWrote ${rel(RESULTS)}`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
