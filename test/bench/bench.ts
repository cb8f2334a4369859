/**
 * End-to-end benchmark and scaling table: tapwatch with `--workers` 1, 2, ...
 * up to the core count, beside tcpdump (the bare read: the ceiling), tshark
 * (a full dissector: a peer) and argus (a C flow monitor: a peer for the flow
 * stage), on two captures, in the same run:
 *
 *  - realistic: bench-data/bench.pcap (test/bench/gen-capture.ts), a client
 *    network's mix (1.2 M packets; --quick: 200 k);
 *  - syn-flood: bench-data/flood-syn.pcap (test/bench/gen-flood.ts), TCP SYNs
 *    from random spoofed sources (1 M packets ≈ 1 M distinct sources; --quick:
 *    200 k): every packet a new flow and new per-source state, the worst case.
 *
 *   npm run bench                 build, compile the bench, run it (both captures)
 *   npm run bench -- --quick      the smaller captures, no reader micro-benchmark
 *   node dist-bench/bench.js [--quick] [--captures realistic,syn-flood] [--workers 1,2]
 *        [--peers tcpdump,tshark,argus] [--regen] [--packets N] [--flood-packets N] [--runs N] [--timeout SEC]
 *        [--no-readers] [--rss time|proc] [--file PCAP] [--cli JS]
 *
 * The tools, whole processes, stdout to /dev/null:
 *   tcpdump -r FILE -w /dev/null            reads and writes every record (no printing)
 *   tshark -n -r FILE -T fields -e frame.number
 *   argus -X -r FILE -w /dev/null           (-X: ignore /etc/argus.conf, so it writes nowhere else)
 *   node dist/cli/main.js analyze FILE --output /dev/null --quiet --workers N
 *   ... and, on the realistic capture, one worker with --events /dev/null too.
 *
 * The generated captures are made again when missing, when their metadata
 * (*.meta.json) does not match the generator or the requested size, or with
 * --regen. --file replaces the realistic capture (its packets are counted).
 *
 * Measurement, per run of each whole process:
 *  - wall time: process.hrtime around spawn..exit;
 *  - CPU time: user + system of the process and all its threads (GNU time
 *    %U + %S), reported as CPU-seconds per million packets, and CPU/wall (how
 *    many cores it kept busy);
 *  - peak RSS: GNU time's %M (the kernel's ru_maxrss: the whole process, all
 *    threads), run as `/usr/bin/time -f '%e %M %U %S' -o TMP cmd...`. Without
 *    GNU time (Debian package `time`) the bench installs it when running as
 *    root, otherwise falls back to polling /proc/PID/status VmHWM and
 *    /proc/PID/stat every 10 ms (`--rss proc` forces that; CPU is then a lower
 *    bound: the last poll before exit).
 * Runs are interleaved (run 1 of every tool, then run 2, ...) after one
 * warm-up read of the file, so every tool sees it in the page cache. Reported:
 * the median of the runs (3 by default) for time and CPU, the maximum peak RSS,
 * and every tapwatch row's ratios to tcpdump, tshark and argus of the same run.
 * The load average before and after each capture is printed and kept: on a
 * shared machine absolute numbers move, the ratios much less.
 *
 * Results: markdown tables on stdout and bench-data/results.json (--quick:
 * results-quick.json). Then the reader micro-benchmark (reader-compare.ts) runs
 * on the realistic capture (skip: --no-readers; --quick skips it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { DEFAULT_OUT, DEFAULT_PACKETS, GENERATOR_VERSION, ROOT, generateCapture, metaPathFor, type GenMeta } from './gen-capture.js';
import { generateFlood } from './gen-flood.js';
import { runReaderCompare, type ReaderSummary } from './reader-compare.js';

const DEFAULT_CLI = resolve(ROOT, 'dist/cli/main.js');
const GNU_TIME = '/usr/bin/time';
const QUICK_PACKETS = 200_000;
const FLOOD_PACKETS = 1_000_000;
const QUICK_FLOOD_PACKETS = 200_000;
/** the flood's own generator settings, kept in its metadata so a change regenerates it */
const FLOOD_SEED = 0x5eed;
const FLOOD_RATE = 200_000;
const FLOOD_VERSION = 1;
const CAPTURES = ['realistic', 'syn-flood'] as const;
const PEERS = ['tcpdump', 'tshark', 'argus'] as const;
type CaptureName = (typeof CAPTURES)[number];

interface Options {
  quick: boolean;
  file: string;
  /** --file given: the realistic capture is the user's, not generated */
  userFile: boolean;
  regen: boolean;
  packets: number;
  floodPackets: number;
  runs: number;
  timeoutSec: number;
  readers: boolean;
  rss: 'time' | 'proc' | 'auto';
  cli: string;
  workers: number[];
  captures: CaptureName[];
  peers: string[];
}

interface Tool {
  name: string;
  role: string;
  cmd: string;
  args: string[];
  /** tapwatch rows: its --workers */
  workers?: number;
  /** why it cannot run, if it cannot */
  unavailable?: string;
  version?: string;
}

interface Run {
  seconds: number;
  peakRssKiB: number;
  /** user + system seconds, all threads */
  cpuSeconds: number;
  gnuTimeSeconds?: number;
}

interface ToolResult {
  tool: string;
  role: string;
  command: string;
  workers?: number;
  version?: string;
  status: 'ok' | 'unavailable' | 'failed';
  note?: string;
  runs: Run[];
  minSeconds?: number;
  medianSeconds?: number;
  packetsPerSec?: number;
  medianCpuSeconds?: number;
  cpuSecondsPerMillion?: number;
  /** median CPU / median wall: cores kept busy */
  cores?: number;
  peakRssMiB?: number;
}

interface Ratio { tool: string; peer: string; time: number; cpu: number; memory: number }

interface CaptureResult {
  name: CaptureName;
  file: string;
  packets: number;
  bytes: number;
  description: string;
  loadBefore: number[];
  loadAfter: number[];
  tools: ToolResult[];
  ratios: Ratio[];
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

const USAGE = 'usage: node dist-bench/bench.js [--quick] [--captures realistic,syn-flood] [--workers 1,2] [--peers tcpdump,tshark,argus] [--regen] [--packets N] [--flood-packets N] [--runs N] [--timeout SEC] [--no-readers] [--rss time|proc] [--file PCAP] [--cli dist/cli/main.js]';

function parseArgs(argv: string[]): Options {
  const cores = availableParallelism();
  const o: Options = {
    quick: false, file: DEFAULT_OUT, userFile: false, regen: false, packets: 0, floodPackets: 0, runs: 3, timeoutSec: 600, readers: true, rss: 'auto', cli: DEFAULT_CLI,
    workers: Array.from({ length: cores }, (_, i) => i + 1), captures: [...CAPTURES], peers: [...PEERS],
  };
  let packets: number | undefined, floodPackets: number | undefined, readers: boolean | undefined;
  const count = (flag: string, v: string): number => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--regen': o.regen = true; break;
      case '--packets': packets = count(a, val()); break;
      case '--flood-packets': floodPackets = count(a, val()); break;
      case '--runs': o.runs = count(a, val()); break;
      case '--timeout': o.timeoutSec = count(a, val()); break;
      case '--no-readers': readers = false; break;
      case '--workers': {
        const ws = val().split(',').map((w) => count('--workers', w.trim()));
        o.workers = [...new Set(ws)].sort((x, y) => x - y);
        break;
      }
      case '--captures': {
        const cs = val().split(',').map((c) => c.trim());
        for (const c of cs) if (!(CAPTURES as readonly string[]).includes(c)) throw new Error(`--captures: ${c} is not one of ${CAPTURES.join(', ')}`);
        o.captures = CAPTURES.filter((c) => cs.includes(c));
        break;
      }
      case '--peers': {
        const ps = val().split(',').map((x) => x.trim()).filter((x) => x !== '');
        for (const x of ps) if (!(PEERS as readonly string[]).includes(x)) throw new Error(`--peers: ${x} is not one of ${PEERS.join(', ')}`);
        o.peers = ps;
        break;
      }
      case '--rss': {
        const v = val();
        if (v !== 'time' && v !== 'proc' && v !== 'auto') throw new Error('--rss is time, proc or auto');
        o.rss = v;
        break;
      }
      case '--file': o.file = resolve(val()); o.userFile = true; break;
      case '--cli': o.cli = resolve(val()); break;
      case '-h':
      case '--help':
        log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a} (${USAGE})`);
    }
  }
  o.packets = packets ?? (o.quick ? QUICK_PACKETS : DEFAULT_PACKETS);
  o.floodPackets = floodPackets ?? (o.quick ? QUICK_FLOOD_PACKETS : FLOOD_PACKETS);
  o.readers = readers ?? !o.quick;
  // another size is another file, so switching sizes does not regenerate the default capture
  if (!o.userFile && o.packets !== DEFAULT_PACKETS) o.file = resolve(ROOT, o.quick && o.packets === QUICK_PACKETS ? 'bench-data/bench-quick.pcap' : `bench-data/bench-${o.packets}.pcap`);
  return o;
}

/** Path relative to the repository when inside it, else absolute. */
function rel(p: string): string {
  const r = relative(ROOT, p);
  return r.startsWith('..') ? p : r;
}

function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined) return undefined;
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
    log('  apt-get install time failed; measuring from /proc/PID/status and /proc/PID/stat instead');
  } else {
    log(`${GNU_TIME} (GNU time) missing: install it with "sudo apt-get install time". Measuring from /proc/PID/status and /proc/PID/stat instead.`);
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

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- captures

interface Prepared { file: string; packets: number; bytes: number; description: string; meta?: GenMeta }

function prepareRealistic(o: Options): Prepared {
  const want = o.packets;
  let meta = readJson<GenMeta>(metaPathFor(o.file));
  const size = existsSync(o.file) ? statSync(o.file).size : -1;
  const describe = (m: GenMeta): string =>
    `${m.packets.toLocaleString('en-US')} packets, ${(m.bytes / 2 ** 20).toFixed(0)} MiB, ${m.spanSec} s of traffic, ${m.distinctHosts.toLocaleString('en-US')} hosts (test/bench/gen-capture.ts, seed ${m.seed})`;
  if (o.userFile) {
    if (size < 0) throw new Error(`--file ${o.file}: no such file`);
    if (meta !== undefined && meta.bytes === size) return { file: o.file, packets: meta.packets, bytes: size, description: describe(meta), meta };
    log(`Counting packets in ${o.file} ...`);
    const packets = countPackets(o.file);
    return { file: o.file, packets, bytes: size, description: `${packets.toLocaleString('en-US')} packets, ${(size / 2 ** 20).toFixed(0)} MiB (${rel(o.file)})` };
  }
  let why = '';
  if (o.regen) why = '--regen';
  else if (size < 0) why = 'missing';
  else if (meta === undefined) why = 'no metadata';
  else if (meta.bytes !== size) why = 'metadata does not match the file';
  else if (meta.generatorVersion !== GENERATOR_VERSION) why = `generator changed (v${meta.generatorVersion} -> v${GENERATOR_VERSION})`;
  else if (meta.packets !== want) why = `${meta.packets} packets, ${want} wanted`;
  if (why !== '') {
    log(`Generating ${rel(o.file)} (${why}): ${want.toLocaleString('en-US')} packets ...`);
    meta = generateCapture({ packets: want, out: o.file, progress: (n) => process.stdout.write(`\r  ${n.toLocaleString('en-US')} packets`) });
    process.stdout.write('\r');
    log(`  ${describe(meta)}, in ${meta.genSeconds} s`);
  }
  return { file: o.file, packets: meta!.packets, bytes: meta!.bytes, description: describe(meta!), meta: meta! };
}

interface FloodMeta { version: number; kind: 'syn'; packets: number; bytes: number; seed: number; rate: number }

function prepareFlood(o: Options): Prepared {
  const n = o.floodPackets;
  const file = resolve(ROOT, n === FLOOD_PACKETS ? 'bench-data/flood-syn.pcap' : o.quick && n === QUICK_FLOOD_PACKETS ? 'bench-data/flood-syn-quick.pcap' : `bench-data/flood-syn-${n}.pcap`);
  const metaPath = file.replace(/\.pcap$/, '.meta.json');
  const want: Omit<FloodMeta, 'bytes'> = { version: FLOOD_VERSION, kind: 'syn', packets: o.floodPackets, seed: FLOOD_SEED, rate: FLOOD_RATE };
  let meta = readJson<FloodMeta>(metaPath);
  const size = existsSync(file) ? statSync(file).size : -1;
  const same = meta !== undefined && meta.bytes === size && meta.version === want.version && meta.packets === want.packets && meta.seed === want.seed && meta.rate === want.rate;
  if (o.regen || !same) {
    log(`Generating ${rel(file)}: ${want.packets.toLocaleString('en-US')} spoofed SYNs ...`);
    const t0 = process.hrtime.bigint();
    generateFlood({ kind: 'syn', packets: want.packets, seed: want.seed, rate: want.rate, out: file });
    meta = { ...want, bytes: statSync(file).size };
    writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
    log(`  ${(meta.bytes / 2 ** 20).toFixed(0)} MiB in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  }
  const m = meta!;
  return {
    file, packets: m.packets, bytes: m.bytes,
    description: `${m.packets.toLocaleString('en-US')} TCP SYNs from random spoofed IPv4 sources and ports to one victim port, ${m.rate.toLocaleString('en-US')} per second of packet time (test/bench/gen-flood.ts --kind syn, seed ${m.seed})`,
  };
}

// ---------------------------------------------------------------- tools

function tools(file: string, o: Options, capture: CaptureName): Tool[] {
  const node = process.execPath;
  const all: Tool[] = [
    // -w /dev/null: every record is read and written out, nothing printed (the ceiling of a reader)
    { name: 'tcpdump', role: 'bare read (ceiling)', cmd: 'tcpdump', args: ['-r', file, '-w', '/dev/null'] },
    // -n: never resolve names, so no run waits on DNS
    { name: 'tshark', role: 'full dissector (peer)', cmd: 'tshark', args: ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number'] },
    // -X: reset the configuration, so /etc/argus.conf's ARGUS_OUTPUT_FILE is not written as well
    { name: 'argus', role: 'C flow monitor (flow-stage peer)', cmd: 'argus', args: ['-X', '-r', file, '-w', '/dev/null'] },
  ];
  const list = all.filter((t) => o.peers.includes(t.name));
  for (const w of o.workers) {
    list.push({ name: `tapwatch -w${w}`, role: `all stages, ${w} worker${w > 1 ? 's' : ''}`, cmd: node, args: [o.cli, 'analyze', file, '--output', '/dev/null', '--quiet', '--workers', String(w)], workers: w });
  }
  if (capture === 'realistic' && o.workers.includes(1)) {
    list.push({ name: 'tapwatch -w1 +events', role: 'all stages + event log, 1 worker', cmd: node, args: [o.cli, 'analyze', file, '--output', '/dev/null', '--events', '/dev/null', '--quiet', '--workers', '1'], workers: 1 });
  }
  for (const t of list) {
    if (t.cmd === node) {
      if (!existsSync(o.cli)) t.unavailable = `${rel(o.cli)} not built yet (npm run build)`;
      else t.version = `node ${process.version}`;
      continue;
    }
    const v = firstLine(t.cmd, t.cmd === 'argus' ? ['-h'] : ['--version']);
    if (v === undefined) t.unavailable = `${t.cmd} not found: apt-get install ${t.cmd === 'argus' ? 'argus-server' : t.cmd}`;
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

/** utime + stime of a live process (all threads), in seconds, from /proc/PID/stat */
function procCpu(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // after the command: state is field 3, utime 14, stime 15 (1-based in proc(5))
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** One measured run of a whole process; stdout to /dev/null, stderr kept for errors. */
function measure(t: Tool, useGnuTime: boolean, timeoutSec: number, tmp: string): Promise<Run> {
  return new Promise((res, rej) => {
    const timeFile = join(tmp, 'time.out');
    rmSync(timeFile, { force: true });
    const [cmd, args] = useGnuTime ? [GNU_TIME, ['-f', '%e %M %U %S', '-o', timeFile, t.cmd, ...t.args]] : [t.cmd, t.args];
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    // own process group, so a timeout kills the tool and not just /usr/bin/time
    const child = spawn(cmd, args, { stdio: ['ignore', devnull, 'pipe'], detached: true });
    closeSync(devnull);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    let hwm = 0;
    let cpu = 0;
    let timedOut = false;
    const poll = useGnuTime
      ? undefined
      : setInterval(() => {
          if (child.pid === undefined) return;
          const v = vmHwm(child.pid);
          if (v !== undefined && v > hwm) hwm = v;
          const c = procCpu(child.pid);
          if (c !== undefined && c > cpu) cpu = c;
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
      if (!useGnuTime) return res({ seconds, peakRssKiB: hwm, cpuSeconds: cpu });
      let line: string | undefined;
      try {
        line = readFileSync(timeFile, 'utf8').trim().split('\n').pop();
      } catch {
        /* handled below */
      }
      const m = line !== undefined ? /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(line) : null;
      if (m === null) return rej(new Error(`could not read GNU time output (${line ?? 'none'})`));
      res({ seconds, peakRssKiB: Number(m[2]), cpuSeconds: Number(m[3]) + Number(m[4]), gnuTimeSeconds: Number(m[1]) });
    });
  });
}

// ---------------------------------------------------------------- tables

/** A markdown table (numbers right-aligned), so the output pastes into the README as it is. */
function markdown(rows: string[][], right: boolean[]): string[] {
  const w = rows[0]!.map((_, i) => Math.max(3, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${w.map((n, i) => (right[i] ? `${'-'.repeat(n + 1)}:` : '-'.repeat(n + 2))).join('|')}|`, ...rows.slice(1).map(line)];
}

const fmtRate = (pps: number): string => (pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} M` : `${(pps / 1e3).toFixed(1)} k`);
const fmtX = (x: number): string => (!Number.isFinite(x) ? '-' : x >= 100 ? `${x.toFixed(0)}x` : x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`);

function printCapture(c: CaptureResult, runs: number): void {
  const w1 = c.tools.find((r) => r.tool === 'tapwatch -w1' && r.medianSeconds !== undefined);
  const rows: string[][] = [['tool', 'median s', 'packets/s', 'CPU-s / M pkts', 'cores busy', 'peak RSS MiB', 'speed-up vs 1 worker']];
  for (const r of c.tools) {
    if (r.medianSeconds === undefined) { rows.push([r.tool, `${r.status}: ${r.note ?? ''}`, '', '', '', '', '']); continue; }
    const speedup = r.workers !== undefined && w1 !== undefined && r.tool !== 'tapwatch -w1' && !r.tool.includes('+events') ? `${(w1.medianSeconds! / r.medianSeconds).toFixed(2)}x` : '';
    rows.push([r.tool, r.medianSeconds.toFixed(2), fmtRate(r.packetsPerSec!), r.cpuSecondsPerMillion!.toFixed(2), r.cores!.toFixed(2), r.peakRssMiB!.toFixed(0), speedup]);
  }
  log(`\n### ${c.name}: ${c.description}`);
  log(`(median of ${runs} runs; load average before ${c.loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${c.loadAfter.map((x) => x.toFixed(1)).join(' ')})\n`);
  for (const l of markdown(rows, [false, true, true, true, true, true, true])) log(l);
  const peers = ['tcpdump', 'tshark', 'argus'].filter((p) => c.ratios.some((x) => x.peer === p));
  if (peers.length === 0) { log('\n(no ratios: no peer row)'); return; }
  const head = ['tapwatch / peer', ...peers.map((p) => `time vs ${p}`), ...peers.map((p) => `CPU vs ${p}`), ...peers.map((p) => `RSS vs ${p}`)];
  const rr: string[][] = [head];
  for (const tw of [...new Set(c.ratios.map((x) => x.tool))]) {
    const get = (p: string, k: 'time' | 'cpu' | 'memory'): string => {
      const x = c.ratios.find((y) => y.tool === tw && y.peer === p);
      return x === undefined ? '-' : fmtX(x[k]);
    };
    rr.push([tw, ...peers.map((p) => get(p, 'time')), ...peers.map((p) => get(p, 'cpu')), ...peers.map((p) => get(p, 'memory'))]);
  }
  log('');
  for (const l of markdown(rr, head.map((_, i) => i > 0))) log(l);
}

// ---------------------------------------------------------------- main

async function benchCapture(name: CaptureName, cap: Prepared, o: Options, useGnuTime: boolean, tmp: string): Promise<CaptureResult> {
  const list = tools(cap.file, o, name);
  const results: ToolResult[] = list.map((t) => {
    const r: ToolResult = { tool: t.name, role: t.role, command: quote([t.cmd === process.execPath ? 'node' : t.cmd, ...t.args.map((a) => (a === cap.file ? rel(a) : a === o.cli ? rel(a) : a))]), status: t.unavailable ? 'unavailable' : 'ok', runs: [] };
    if (t.workers !== undefined) r.workers = t.workers;
    if (t.version !== undefined) r.version = t.version;
    if (t.unavailable !== undefined) r.note = t.unavailable;
    return r;
  });
  log(`\n== ${name}: ${rel(cap.file)}: ${cap.description}`);
  for (const r of results) if (r.status === 'unavailable') log(`  ${r.tool}: skipped: ${r.note}`);
  warmCache(cap.file);
  const loadBefore = loadavg();
  for (let i = 0; i < o.runs; i++) {
    for (let k = 0; k < list.length; k++) {
      const t = list[k]!;
      const r = results[k]!;
      if (r.status !== 'ok') continue;
      process.stdout.write(`  run ${i + 1}/${o.runs} ${t.name.padEnd(20)} `);
      try {
        const run = await measure(t, useGnuTime, o.timeoutSec, tmp);
        r.runs.push(run);
        log(`${run.seconds.toFixed(2)} s  ${run.cpuSeconds.toFixed(2)} CPU-s  ${(run.peakRssKiB / 1024).toFixed(0)} MiB`);
      } catch (e) {
        r.status = 'failed';
        r.note = (e as Error).message;
        log(`FAILED: ${r.note}`);
      }
    }
  }
  const loadAfter = loadavg();
  for (const r of results) {
    if (r.runs.length === 0 || r.status !== 'ok') continue;
    const secs = r.runs.map((x) => x.seconds);
    r.minSeconds = Math.min(...secs);
    r.medianSeconds = median(secs);
    r.packetsPerSec = cap.packets / r.medianSeconds;
    r.medianCpuSeconds = median(r.runs.map((x) => x.cpuSeconds));
    r.cpuSecondsPerMillion = (r.medianCpuSeconds / cap.packets) * 1e6;
    r.cores = r.medianCpuSeconds / r.medianSeconds;
    r.peakRssMiB = Math.max(...r.runs.map((x) => x.peakRssKiB)) / 1024;
  }
  const ratios: Ratio[] = [];
  const ok = (r: ToolResult): boolean => r.medianSeconds !== undefined;
  for (const a of results.filter((r) => r.workers !== undefined && ok(r))) {
    for (const b of results.filter((r) => r.workers === undefined && ok(r))) {
      ratios.push({
        tool: a.tool, peer: b.tool,
        time: a.medianSeconds! / b.medianSeconds!,
        // a peer with no measurable CPU (a tiny capture) gives no CPU ratio
        cpu: b.medianCpuSeconds! > 0 ? a.medianCpuSeconds! / b.medianCpuSeconds! : NaN,
        memory: a.peakRssMiB! / b.peakRssMiB!,
      });
    }
  }
  return { name, file: rel(cap.file), packets: cap.packets, bytes: cap.bytes, description: cap.description, loadBefore, loadAfter, tools: results, ratios };
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'));
    if (m) return m[1]!.trim();
  } catch {
    /* not Linux */
  }
  return cpus()[0]?.model ?? 'unknown';
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const useGnuTime = o.rss === 'proc' ? false : ensureGnuTime();
  if (o.rss === 'time' && !useGnuTime) throw new Error('--rss time: GNU time is not available');
  const method = useGnuTime
    ? "wall: process.hrtime around spawn..exit; CPU (user+system, all threads) and peak RSS (ru_maxrss, whole process): GNU time (/usr/bin/time -f '%e %M %U %S')"
    : 'wall: process.hrtime around spawn..exit; peak RSS: /proc/PID/status VmHWM, CPU: /proc/PID/stat utime+stime, polled every 10 ms (CPU a lower bound)';
  const machine = { node: process.version, cpus: availableParallelism(), cpuModel: cpuModel(), memoryGiB: Math.round(totalmem() / 2 ** 30) };
  const t0 = Date.now();
  log(`Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`Runs: ${o.runs} per tool, interleaved, timeout ${o.timeoutSec} s each; tapwatch --workers ${o.workers.join(', ')}. ${method}`);

  const prepared = new Map<CaptureName, Prepared>();
  for (const c of o.captures) prepared.set(c, c === 'realistic' ? prepareRealistic(o) : prepareFlood(o));

  const tmp = mkdtempSync(join(tmpdir(), 'tapwatch-bench-'));
  const captures: CaptureResult[] = [];
  try {
    for (const c of o.captures) captures.push(await benchCapture(c, prepared.get(c)!, o, useGnuTime, tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log(`\n## Results (${new Date().toISOString().slice(0, 10)}, ${machine.cpus} CPUs ${machine.cpuModel}, node ${machine.node})`);
  for (const c of captures) printCapture(c, o.runs);
  log('\nCPU-s / M pkts: user+system seconds of the whole process (all threads) per million packets (median run);');
  log('cores busy: CPU / wall; ratios: tapwatch median over the peer median of the same run (time, CPU) and peak RSS over peak RSS.');

  let readers: ReaderSummary[] | undefined;
  const real = prepared.get('realistic');
  if (o.readers && real !== undefined) {
    log('');
    readers = await runReaderCompare({ file: real.file, runs: o.runs, timeoutSec: o.timeoutSec, expectPackets: real.packets, log });
  }

  const out = {
    date: new Date().toISOString(),
    elapsedSec: Math.round((Date.now() - t0) / 1000),
    machine,
    quick: o.quick,
    runsPerTool: o.runs,
    workers: o.workers,
    method,
    captures,
    ...(readers !== undefined ? { readers } : {}),
  };
  const results = resolve(ROOT, o.quick ? 'bench-data/results-quick.json' : 'bench-data/results.json');
  mkdirSync(dirname(results), { recursive: true });
  writeFileSync(results, JSON.stringify(out, null, 2) + '\n');
  log(`\nWrote ${rel(results)} (${out.elapsedSec} s in all)`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
