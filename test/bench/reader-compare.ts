/**
 * Reader micro-benchmark: how fast can a Node process merely walk the capture?
 *
 *   (a) pcap-parser 0.2.1 (npm), 'packet' events with a no-op handler;
 *   (b) a plain chunked fs read loop walking the 16-byte record headers and
 *       handing each packet to a no-op PacketSink, as our own reader would;
 *   (c) the project's reader, dist/capture/reader.js `readCapture(path, sink)`,
 *       when it has been built (skipped otherwise).
 *
 * Each run happens in a fresh child process (so one reader's heap does not
 * inflate the next one's RSS); the child times the read alone in-process with
 * process.hrtime and reports its peak RSS: the max of process.memoryUsage.rss()
 * sampled every 10 ms and every 64k packets, and the kernel's VmHWM from
 * /proc/self/status, whichever is larger.
 *
 * Usage: node dist-bench/reader-compare.js [FILE] [--runs N] [--timeout SEC]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EventEmitter } from 'node:events';
import { DEFAULT_OUT, ROOT, metaPathFor } from './gen-capture.js';

/** Local copy of src/capture/types.ts's PacketSink (the bench compiles on its own rootDir). */
interface PacketSink {
  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: 6 | 9): void;
}
interface ReadResult {
  packets: number;
  bytes: number;
  warning?: string;
}

export const READERS = ['pcap-parser', 'chunked-walk', 'tapwatch-reader'] as const;
export type ReaderName = (typeof READERS)[number];
export const PROJECT_READER = resolve(ROOT, 'dist/capture/reader.js');

export interface ReaderRun {
  packets: number;
  bytes: number;
  seconds: number;
  peakRssKiB: number;
  baselineRssKiB: number;
  warning?: string;
}

export interface ReaderSummary {
  reader: ReaderName;
  description: string;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  runs: ReaderRun[];
  packets?: number;
  minSeconds?: number;
  medianSeconds?: number;
  packetsPerSec?: number;
  mibPerSec?: number;
  peakRssMiB?: number;
}

const DESCRIPTIONS: Record<ReaderName, string> = {
  'pcap-parser': 'pcap-parser 0.2.1, no-op packet handler',
  'chunked-walk': 'fs read loop, 8 MiB chunks, record walk, no-op sink',
  'tapwatch-reader': 'dist/capture/reader.js readCapture(), no-op sink',
};

// ---------------------------------------------------------------- child side

function vmHwmKiB(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

let peakRss = 0;
function sample(): void {
  const r = process.memoryUsage.rss();
  if (r > peakRss) peakRss = r;
}

const noopSink: PacketSink = {
  packet(): void {
    /* no-op */
  },
};

async function readWithPcapParser(file: string): Promise<{ packets: number; bytes: number }> {
  const require = createRequire(import.meta.url);
  const pp = require('pcap-parser') as { parse(input: string): EventEmitter };
  return new Promise((res, rej) => {
    let packets = 0;
    let bytes = 0;
    const p = pp.parse(file);
    p.on('packet', (pkt: { header: { capturedLength: number }; data: Buffer }) => {
      packets++;
      bytes += pkt.data.length;
      if ((packets & 0xffff) === 0) sample();
    });
    p.on('error', rej);
    p.on('end', () => res({ packets, bytes }));
  });
}

/** A minimal classic-pcap reader: read big chunks, walk record headers, hand views to the sink. */
async function readChunked(file: string, sink: PacketSink): Promise<{ packets: number; bytes: number; warning?: string }> {
  const fh = await open(file, 'r');
  try {
    const CH = 8 << 20;
    let buf = Buffer.allocUnsafe(CH);
    let have = 0;
    let eof = false;
    const fill = async (): Promise<void> => {
      while (!eof && have < buf.length) {
        const { bytesRead } = await fh.read(buf, have, buf.length - have, null);
        if (bytesRead === 0) eof = true;
        have += bytesRead;
      }
    };
    await fill();
    if (have < 24) return { packets: 0, bytes: 0, warning: 'file shorter than a pcap header' };
    const magicLE = buf.readUInt32LE(0);
    let le: boolean;
    let nsec: boolean;
    if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
      le = true;
      nsec = magicLE === 0xa1b23c4d;
    } else {
      const magicBE = buf.readUInt32BE(0);
      if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) return { packets: 0, bytes: 0, warning: 'not a classic pcap file' };
      le = false;
      nsec = magicBE === 0xa1b23c4d;
    }
    const u32 = le ? (b: Buffer, o: number): number => b.readUInt32LE(o) : (b: Buffer, o: number): number => b.readUInt32BE(o);
    const linktype = u32(buf, 20) & 0x0fffffff;
    const mult = nsec ? 1 : 1000;
    const digits = nsec ? 9 : 6;
    let off = 24;
    let packets = 0;
    let bytes = 0;
    for (;;) {
      while (off + 16 <= have) {
        const incl = u32(buf, off + 8);
        if (incl > 0x4000000) return { packets, bytes, warning: `corrupt record length ${incl} after ${packets} packets` };
        const end = off + 16 + incl;
        if (end > have) break;
        sink.packet(linktype, u32(buf, off), u32(buf, off + 4) * mult, buf, off + 16, incl, u32(buf, off + 12), digits);
        packets++;
        bytes += incl;
        off = end;
        if ((packets & 0xffff) === 0) sample();
      }
      if (eof) {
        return off < have ? { packets, bytes, warning: `truncated record at end of file after ${packets} packets` } : { packets, bytes };
      }
      // keep the partial record, grow the buffer if a single record does not fit
      const rest = have - off;
      if (rest > 0 && off === 0) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      } else {
        buf.copy(buf, 0, off, have);
      }
      have = rest;
      off = 0;
      await fill();
    }
  } finally {
    await fh.close();
  }
}

async function readWithProject(file: string): Promise<ReadResult> {
  const mod = (await import(pathToFileURL(PROJECT_READER).href)) as { readCapture?: (path: string, sink: PacketSink) => Promise<ReadResult> };
  if (typeof mod.readCapture !== 'function') throw new Error('dist/capture/reader.js does not export readCapture()');
  return mod.readCapture(file, noopSink);
}

async function childMain(reader: ReaderName, file: string): Promise<void> {
  const baseline = Math.round(process.memoryUsage.rss() / 1024);
  peakRss = process.memoryUsage.rss();
  const timer = setInterval(sample, 10);
  const t0 = process.hrtime.bigint();
  let r: { packets: number; bytes: number; warning?: string };
  if (reader === 'pcap-parser') r = await readWithPcapParser(file);
  else if (reader === 'chunked-walk') r = await readChunked(file, noopSink);
  else r = await readWithProject(file);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  sample();
  const out: ReaderRun = { packets: r.packets, bytes: r.bytes, seconds, peakRssKiB: Math.max(Math.round(peakRss / 1024), vmHwmKiB()), baselineRssKiB: baseline };
  if (r.warning !== undefined) out.warning = r.warning;
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ---------------------------------------------------------------- parent side

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function runChild(reader: ReaderName, file: string, timeoutSec: number): Promise<ReaderRun> {
  return new Promise((res, rej) => {
    // --no-deprecation: pcap-parser calls new Buffer(), which would print DEP0005
    const child = spawn(process.execPath, ['--no-deprecation', fileURLToPath(import.meta.url), '--child', reader, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSec * 1000);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        rej(new Error(signal === 'SIGKILL' ? `timed out after ${timeoutSec} s` : `exit ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      try {
        res(JSON.parse(out.trim().split('\n').pop() ?? '') as ReaderRun);
      } catch {
        rej(new Error(`unreadable child output: ${out.slice(0, 200)}`));
      }
    });
  });
}

export interface CompareOptions {
  file?: string;
  runs?: number;
  timeoutSec?: number;
  /** expected packet count, to flag readers that disagree */
  expectPackets?: number;
  log?: (line: string) => void;
}

export async function runReaderCompare(opts: CompareOptions = {}): Promise<ReaderSummary[]> {
  const file = resolve(opts.file ?? DEFAULT_OUT);
  const runs = opts.runs ?? 3;
  const timeoutSec = opts.timeoutSec ?? 300;
  const log = opts.log ?? ((l: string) => console.log(l));
  const sums: ReaderSummary[] = READERS.map((reader) => ({ reader, description: DESCRIPTIONS[reader], status: 'ok', runs: [] }));
  const project = sums.find((s) => s.reader === 'tapwatch-reader')!;
  if (!existsSync(PROJECT_READER)) {
    project.status = 'skipped';
    project.note = 'dist/capture/reader.js not built (src/capture/reader.ts missing?)';
  }
  for (let i = 0; i < runs; i++) {
    for (const s of sums) {
      if (s.status !== 'ok') continue;
      try {
        const r = await runChild(s.reader, file, timeoutSec);
        s.runs.push(r);
        if (r.warning !== undefined) s.note = r.warning;
      } catch (e) {
        s.status = 'failed';
        s.note = (e as Error).message;
      }
    }
  }
  for (const s of sums) {
    if (s.runs.length === 0) {
      if (s.status === 'ok') s.status = 'failed';
      continue;
    }
    const secs = s.runs.map((r) => r.seconds);
    s.packets = s.runs[0]!.packets;
    s.minSeconds = Math.min(...secs);
    s.medianSeconds = median(secs);
    s.packetsPerSec = s.packets / s.medianSeconds;
    s.mibPerSec = s.runs[0]!.bytes / 2 ** 20 / s.medianSeconds;
    s.peakRssMiB = Math.max(...s.runs.map((r) => r.peakRssKiB)) / 1024;
    if (opts.expectPackets !== undefined && s.packets !== opts.expectPackets) s.note = `${s.note ?? ''} read ${s.packets} packets, expected ${opts.expectPackets}`.trim();
  }
  log(formatReaderTable(sums, runs));
  return sums;
}

export function formatReaderTable(sums: ReaderSummary[], runs: number): string {
  const rows: string[][] = [['reader', 'packets', 'min s', 'median s', 'packets/s', 'MiB/s', 'peak RSS MiB']];
  for (const s of sums) {
    if (s.medianSeconds === undefined) {
      rows.push([s.reader, `${s.status}: ${s.note ?? ''}`]);
      continue;
    }
    rows.push([s.reader, String(s.packets), s.minSeconds!.toFixed(3), s.medianSeconds.toFixed(3), Math.round(s.packetsPerSec!).toLocaleString('en-US'), s.mibPerSec!.toFixed(0), s.peakRssMiB!.toFixed(1)]);
  }
  const lines = [`Reader micro-benchmark (in-process timing of the read alone, ${runs} run(s) each, one child process per run):`, ...table(rows)];
  for (const s of sums) if (s.medianSeconds !== undefined && s.note) lines.push(`  note ${s.reader}: ${s.note}`);
  return lines.join('\n');
}

/** Left-align the first column, right-align the rest; rows shorter than the header span the line. */
export function table(rows: string[][]): string[] {
  const width = rows[0]!.length;
  const w: number[] = new Array<number>(width).fill(0);
  for (const r of rows) if (r.length === width) r.forEach((c, i) => (w[i] = Math.max(w[i]!, c.length)));
  return rows.map((r, ri) => {
    const line = r.length === width ? r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ') : `${r[0]!.padEnd(w[0]!)}  ${r.slice(1).join(' ')}`;
    return ri === 0 ? `  ${line}\n  ${'-'.repeat(line.length)}` : `  ${line}`;
  });
}

// ---------------------------------------------------------------- CLI

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    childMain(argv[1] as ReaderName, argv[2]!).catch((e: unknown) => {
      console.error((e as Error).stack ?? String(e));
      process.exit(1);
    });
  } else {
    let file = DEFAULT_OUT;
    let runs = 3;
    let timeoutSec = 300;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--runs') runs = Number(argv[++i]);
      else if (a === '--timeout') timeoutSec = Number(argv[++i]);
      else if (a === '-h' || a === '--help') {
        console.log('usage: node dist-bench/reader-compare.js [FILE] [--runs N] [--timeout SEC]');
        process.exit(0);
      } else file = resolve(a);
    }
    if (!existsSync(file)) {
      console.error(`reader-compare: ${file} not found; run "node dist-bench/gen-capture.js" (or npm run bench) first`);
      process.exit(2);
    }
    let expectPackets: number | undefined;
    try {
      expectPackets = (JSON.parse(readFileSync(metaPathFor(file), 'utf8')) as { packets: number }).packets;
    } catch {
      /* no metadata: nothing to cross-check */
    }
    runReaderCompare({ file, runs, timeoutSec, ...(expectPackets !== undefined ? { expectPackets } : {}) }).catch((e: unknown) => {
      console.error(`reader-compare: ${(e as Error).message}`);
      process.exit(1);
    });
  }
}
