/**
 * Several capture files as one stream, merged by packet time: a k-way merge
 * of the readers (a binary heap keyed on each reader's next timestamp), so
 * `analyze a.pcap b.pcap` sees the packets as one tap would have seen them
 * (what `mergecap` does, without the temporary file). Each input keeps its
 * own order; equal timestamps go to the earlier-named input first, so a
 * merge is deterministic.
 *
 * Each input is parsed a chunk at a time into a small batch of record
 * offsets (struct of typed arrays, no object per packet) that point into the
 * input's own chunk buffer; the buffer is only reused once its batch has been
 * delivered, so the PacketSink contract (bytes valid during the call) holds.
 * Memory: one chunk (4 MiB) plus one batch per input.
 */
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { detectFormat, FormatError, type RecordParser } from './formats.js';
import { CHUNK_SIZE, InputError, openError, type ReadProgress } from './reader.js';
import type { PacketSink, ReadResult, TsDigits } from './types.js';

/** Record offsets of one parsed chunk; a PacketSink that only remembers where each packet is. */
class Batch implements PacketSink {
  n = 0;
  i = 0;
  buf: Buffer = Buffer.alloc(0);
  lt = new Int32Array(1024);
  sec = new Float64Array(1024);
  nsec = new Int32Array(1024);
  off = new Int32Array(1024);
  cap = new Int32Array(1024);
  wire = new Float64Array(1024);
  dig = new Uint8Array(1024);

  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void {
    if (this.n === this.lt.length) this.grow();
    const k = this.n++;
    this.buf = buf;
    this.lt[k] = linktype; this.sec[k] = tsSec; this.nsec[k] = tsNsec; this.off[k] = off;
    this.cap[k] = caplen; this.wire[k] = wirelen; this.dig[k] = digits ?? 6;
  }

  reset(): void { this.n = 0; this.i = 0; }

  private grow(): void {
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.lt = g(this.lt); this.sec = g(this.sec); this.nsec = g(this.nsec); this.off = g(this.off);
    this.cap = g(this.cap); this.wire = g(this.wire); this.dig = g(this.dig);
  }
}

/** One input of the merge: pulls chunks, parses them into a Batch. */
class Cursor {
  readonly batch = new Batch();
  parser: RecordParser | null = null;
  warning: string | undefined;
  /** no more records after the current batch */
  ended = false;
  private fd = -1;
  private buf = Buffer.allocUnsafe(CHUNK_SIZE);
  private have = 0;
  private start = 0;
  private eof = false;
  private it: AsyncIterator<unknown> | null = null;
  private tail: Buffer | null = null;

  constructor(readonly path: string, readonly index: number, private readonly progress: ReadProgress | undefined) {}

  get name(): string { return this.path === '-' ? 'stdin' : this.path; }

  /** Opens the input and reads its first batch; InputError when it is unreadable or not a capture. */
  async open(): Promise<void> {
    if (this.path === '-') {
      this.it = (process.stdin as Readable)[Symbol.asyncIterator]();
    } else {
      try {
        if (statSync(this.path).isDirectory()) throw Object.assign(new Error('dir'), { code: 'EISDIR' });
        this.fd = openSync(this.path, 'r');
      } catch (e) {
        throw openError(this.path, e as NodeJS.ErrnoException);
      }
    }
    await this.fill();
  }

  /** Refills the batch; false when the input has no more records. */
  async fill(): Promise<boolean> {
    this.batch.reset();
    while (this.batch.n === 0) {
      if (this.ended) return false;
      if (this.it) await this.fillStream(); else this.fillFile();
    }
    return true;
  }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }

  result(): ReadResult {
    const r: ReadResult = { packets: this.parser?.packets ?? 0, bytes: this.parser?.bytes ?? 0 };
    if (this.warning) r.warning = this.warning;
    return r;
  }

  private end(warning?: string): void {
    this.ended = true;
    if (warning) this.warning = warning;
  }

  private detect(head: Buffer): RecordParser {
    const p = detectFormat(head);
    if (p === null) throw new InputError(`${this.name}: not a pcap or pcapng capture (unknown magic ${head.subarray(0, Math.min(4, head.length)).toString('hex') || 'none: empty file'})`);
    return p;
  }

  private parse(buf: Buffer, from: number, to: number): number {
    try {
      return this.parser!.parse(buf, from, to, this.batch);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      // records parsed before the bad one stay in the batch and are delivered
      this.end(`${this.name}: ${e.message}; stopped after ${this.parser!.packets} packets`);
      return to;
    }
  }

  private fillFile(): void {
    if (this.eof) {
      const left = this.have - this.start;
      this.end(left > 0 ? `${this.name}: truncated last record (${left} bytes left over); read ${this.parser?.packets ?? 0} packets` : undefined);
      return;
    }
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.have);
      this.have -= this.start;
      this.start = 0;
    }
    if (this.have === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.have);
      this.buf = bigger;
    }
    let n: number;
    try {
      n = readSync(this.fd, this.buf, this.have, this.buf.length - this.have, null);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (this.parser === null) throw openError(this.path, err);
      this.end(`${this.name}: read error ${err.code ?? err.message} after ${this.parser.packets} packets`);
      return;
    }
    if (this.progress) this.progress.bytes += n;
    if (n === 0) this.eof = true;
    this.have += n;
    if (this.parser === null) {
      if (this.have < 4 && !this.eof) return;
      this.parser = this.detect(this.buf.subarray(0, this.have));
    }
    this.start = this.parse(this.buf, this.start, this.have);
  }

  private async fillStream(): Promise<void> {
    let r: IteratorResult<unknown>;
    try {
      r = await this.it!.next();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (this.parser === null) throw openError(this.name, err);
      this.end(`${this.name}: read error ${err.code ?? err.message} after ${this.parser.packets} packets`);
      return;
    }
    if (r.done) {
      if (this.parser === null) throw new InputError(`${this.name}: not a pcap or pcapng capture (${this.tail ? 'too short' : 'empty input'})`);
      const left = this.tail?.length ?? 0;
      this.end(left > 0 ? `${this.name}: truncated last record (${left} bytes left over); read ${this.parser.packets} packets` : undefined);
      return;
    }
    let chunk = r.value as Buffer;
    if (this.progress) this.progress.bytes += chunk.length;
    if (this.tail !== null) { chunk = Buffer.concat([this.tail, chunk]); this.tail = null; }
    if (this.parser === null) {
      if (chunk.length < 4) { this.tail = chunk; return; }
      this.parser = this.detect(chunk);
    }
    const used = this.parse(chunk, 0, chunk.length);
    // copy the tail: the batch still points into `chunk`, and the next chunk is concatenated to it
    if (used < chunk.length) this.tail = Buffer.from(chunk.subarray(used));
  }
}

/** a's next packet comes before b's (ties: the earlier-named input) */
function before(a: Cursor, b: Cursor): boolean {
  const x = a.batch, y = b.batch;
  const sa = x.sec[x.i]!, sb = y.sec[y.i]!;
  if (sa !== sb) return sa < sb;
  const na = x.nsec[x.i]!, nb = y.nsec[y.i]!;
  return na !== nb ? na < nb : a.index < b.index;
}

function siftDown(h: Cursor[], i: number): void {
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const r = l + 1;
    const m = r < n && before(h[r]!, h[l]!) ? r : l;
    if (!before(h[m]!, h[i]!)) return;
    const t = h[i]!; h[i] = h[m]!; h[m] = t;
    i = m;
  }
}

export interface MergeResult {
  path: string;
  result: ReadResult;
  /** the input could not be read at all (missing, not a capture): it took no part in the merge */
  error?: InputError;
}

/**
 * Reads every input and feeds their packets to `sink` in packet-time order.
 * Every input is opened (and its format checked) before any packet is
 * delivered; one that cannot be read (missing, not a capture) is left out
 * with `error` set and the others are still merged, as the sequential reader
 * still analyses the files before a bad one. A damaged input (truncated or
 * corrupt record) ends that input with a warning in its result; the others
 * go on.
 */
export async function readMerged(paths: string[], sink: PacketSink, progress?: ReadProgress): Promise<MergeResult[]> {
  const cursors = paths.map((p, i) => new Cursor(p, i, progress));
  try {
    const errors = new Map<Cursor, InputError>();
    for (const c of cursors) {
      try {
        await c.open();
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        errors.set(c, e);
        c.batch.reset();
      }
    }
    const heap = cursors.filter((c) => !errors.has(c) && c.batch.n > 0);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
    let sinceYield = 0;
    while (heap.length > 0) {
      const c = heap[0]!;
      const b = c.batch;
      const k = b.i++;
      sink.packet(b.lt[k]!, b.sec[k]!, b.nsec[k]!, b.buf, b.off[k]!, b.cap[k]!, b.wire[k]!, b.dig[k] as TsDigits);
      if (b.i === b.n) {
        if (!(await c.fill())) {
          const last = heap.pop()!;
          if (heap.length === 0) break;
          if (last !== c) heap[0] = last;
        }
        // a refill is where a timer or signal may run (as the single-file reader yields between chunks)
        if (++sinceYield >= 4) { sinceYield = 0; await new Promise<void>((r) => setImmediate(r)); }
      }
      siftDown(heap, 0);
    }
    return cursors.map((c) => {
      const e = errors.get(c);
      return e ? { path: c.name, result: c.result(), error: e } : { path: c.name, result: c.result() };
    });
  } finally {
    for (const c of cursors) c.close();
  }
}
