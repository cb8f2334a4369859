import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';

export interface SpoolFileOptions {
  /** directory for the spool (created 0750 if missing) */
  dir: string;
  /** file stem: <dir>/<name>.spool holds records, <dir>/<name>.pos the delivered offset */
  name: string;
  /** bound on undelivered bytes (default 64 MiB); disk use stays ≤ 1.125 × this */
  maxBytes?: number;
  logger?: SinkLogger;
}

/** a batch handed out by take(): ack(end, n) once all of it is delivered */
export interface SpoolBatch {
  msgs: string[];
  /** logical offset just past the batch */
  end: number;
  bytes: number;
}

export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;

/**
 * An on-disk FIFO of single-line messages (one record = message + '\n').
 *
 * Offsets are logical (they keep growing across truncation and compaction)
 * so batches handed out before a compaction can still be acknowledged.
 * - append(): O_APPEND write of one record; refused (false) when the
 *   undelivered bytes would exceed maxBytes.
 * - take(): next whole records after the read cursor.
 * - ack(): the delivered offset moves; when everything is delivered the file
 *   is truncated to 0; the offset is persisted in <name>.pos (8-byte
 *   overwrite) so a restart resends only what was not acknowledged
 *   (at-least-once: a crash between delivery and the pos write resends a batch).
 * - rewind(): read cursor back to the delivered offset (connection lost).
 * - prepend(): put messages in front (unconfirmed in-memory messages after a
 *   connection loss), by rewriting the file.
 * On open, a torn last record (crash mid-append) is cut off and logged.
 * All I/O is synchronous: the spool is only used while the target is down or
 * slow, records are small, and ordering stays trivial.
 */
export class SpoolFile {
  readonly path: string;
  private readonly posPath: string;
  private readonly maxBytes: number;
  private readonly log: SinkLogger;
  private fd: number;
  private posFd: number;
  /** physical size of the file */
  private size = 0;
  /** physical offset of the first undelivered byte */
  private acked = 0;
  /** physical offset of the next byte to hand out */
  private cursor = 0;
  /** logical = physical + base */
  private base = 0;
  /** records in [acked, size) */
  private records = 0;
  private lastFailure = 'spool full';
  /** appends and offset writes that failed (disk full, I/O error) */
  writeErrors = 0;

  constructor(opts: SpoolFileOptions) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.log = opts.logger ?? nullLogger;
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o750 });
    this.path = path.join(opts.dir, opts.name + '.spool');
    this.posPath = path.join(opts.dir, opts.name + '.pos');
    this.fd = fs.openSync(this.path, 'a+', 0o640);
    this.posFd = fs.openSync(this.posPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o640);
    this.size = fs.fstatSync(this.fd).size;
    this.repairTail();
    this.acked = this.readPos();
    this.cursor = this.acked;
    this.records = this.countRecords(this.acked, this.size);
    // Write the offset record now, while there is room: later acks overwrite
    // these 20 bytes in place and so never need new disk space (on a full
    // disk, delivering the spool must still be able to record its progress).
    this.savePos();
    if (this.records > 0) {
      this.log('info', 'spool: undelivered messages from an earlier run', {
        spool: this.path,
        messages: this.records,
        bytes: this.size - this.acked,
      });
    }
  }

  /** undelivered bytes */
  get pendingBytes(): number {
    return this.size - this.acked;
  }
  /** undelivered records */
  get pendingRecords(): number {
    return this.records;
  }
  get isEmpty(): boolean {
    return this.acked === this.size;
  }
  /** records not yet handed out by take() */
  get hasUnsent(): boolean {
    return this.cursor < this.size;
  }
  get fileBytes(): number {
    return this.size;
  }

  /**
   * append one message; false (nothing written) if the spool is full or the
   * write failed (disk full, I/O error): failReason says which. Never throws:
   * a full disk must cost the alert, not the daemon.
   */
  append(msg: string): boolean {
    const rec = Buffer.from(msg.replace(/\n/g, '\\x0a') + '\n');
    if (this.pendingBytes + rec.length > this.maxBytes) {
      this.lastFailure = 'spool full';
      return false;
    }
    try {
      if (this.size + rec.length > this.maxBytes && this.acked >= this.maxBytes / 8) this.compact();
      let off = 0;
      while (off < rec.length) off += fs.writeSync(this.fd, rec, off, rec.length - off);
    } catch (err) {
      // ENOSPC usually comes after a short write (tmpfs, ext4: the last page or
      // block fitted): cut the torn part, or the next record appended once space
      // is back would be glued to it and both delivered as one garbled message.
      try { fs.ftruncateSync(this.fd, this.size); } catch { /* shrinking needs no space; nothing more to do */ }
      this.writeErrors++;
      this.lastFailure = `spool write failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      return false;
    }
    this.size += rec.length;
    this.records++;
    return true;
  }

  /** why the last append() returned false: "spool full" (the bound) or "spool write failed: ENOSPC" … */
  get failReason(): string {
    return this.lastFailure;
  }

  /** next whole records after the read cursor, up to about maxBytes (at least one) */
  take(maxBytes = 64 * 1024, maxRecords = Infinity): SpoolBatch | null {
    if (this.cursor >= this.size) return null;
    let want = Math.min(maxBytes, this.size - this.cursor);
    for (;;) {
      const buf = Buffer.alloc(want);
      const got = fs.readSync(this.fd, buf, 0, want, this.cursor);
      let lastNl = buf.lastIndexOf(0x0a, got - 1);
      if (lastNl >= 0 && maxRecords !== Infinity) {
        // stop after maxRecords newlines
        let n = 0;
        for (let i = 0; i <= lastNl; i++) {
          if (buf[i] === 0x0a && ++n === maxRecords) {
            lastNl = i;
            break;
          }
        }
      }
      if (lastNl >= 0) {
        const text = buf.toString('utf8', 0, lastNl);
        this.cursor += lastNl + 1;
        const msgs = text.split('\n');
        return { msgs, end: this.cursor + this.base, bytes: lastNl + 1 };
      }
      if (this.cursor + got >= this.size) return null; // unreachable: tail is repaired on open
      want = Math.min(want * 2, this.size - this.cursor);
    }
  }

  /** everything before logical offset `end` (n records) is delivered */
  ack(end: number, n: number): void {
    const p = end - this.base;
    if (p <= this.acked || p > this.size) return;
    this.acked = p;
    this.records = Math.max(0, this.records - n);
    if (this.acked === this.size && this.cursor === this.size) {
      let cut = true;
      try { fs.ftruncateSync(this.fd, 0); } catch { cut = false; /* keep the delivered bytes; the offset says they are done */ }
      if (cut) {
        this.base += this.size;
        this.size = this.acked = this.cursor = 0;
        this.records = 0;
      }
    }
    this.savePos();
  }

  /** hand out again everything not acknowledged */
  rewind(): void {
    this.cursor = this.acked;
  }

  /** put messages (oldest first) in front of everything undelivered; also rewinds */
  prepend(msgs: string[]): void {
    if (msgs.length === 0) {
      this.rewind();
      return;
    }
    const head = Buffer.from(msgs.map((m) => m.replace(/\n/g, '\\x0a') + '\n').join(''));
    this.rewrite(head);
    this.records += msgs.length;
  }

  close(): void {
    try {
      this.savePos();
    } finally {
      fs.closeSync(this.fd);
      fs.closeSync(this.posFd);
    }
  }

  /** drop the delivered head of the file (copy the rest to a new file) */
  private compact(): void {
    if (this.acked === 0) return;
    this.rewrite(Buffer.alloc(0));
  }

  /** new file = head + [acked, size); offsets restart (caller has nothing in flight for prepend) */
  private rewrite(head: Buffer): void {
    const tmp = this.path + '.tmp';
    const out = fs.openSync(tmp, 'w', 0o640);
    let done = false;
    try {
      let off = 0;
      while (off < head.length) off += fs.writeSync(out, head, off, head.length - off);
      const chunk = Buffer.alloc(1024 * 1024);
      let pos = this.acked;
      while (pos < this.size) {
        const got = fs.readSync(this.fd, chunk, 0, Math.min(chunk.length, this.size - pos), pos);
        if (got <= 0) break;
        let w = 0;
        while (w < got) w += fs.writeSync(out, chunk, w, got - w);
        pos += got;
      }
      done = true;
    } finally {
      fs.closeSync(out);
      // a half-written copy (disk full) must not keep the space it took
      if (!done) try { fs.unlinkSync(tmp); } catch { /* already gone */ }
    }
    fs.renameSync(tmp, this.path);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.path, 'a+', 0o640);
    const removed = this.acked;
    const newSize = head.length + (this.size - this.acked);
    if (head.length > 0) {
      // everything is re-sent from the start; logical offsets restart past the old ones
      this.base += this.size + 1;
      this.cursor = 0;
    } else {
      this.base += removed;
      this.cursor -= removed;
    }
    this.size = newSize;
    this.acked = 0;
    this.savePos();
  }

  /**
   * Never throws (it runs in socket callbacks): a failed write is counted and
   * logged; the cost is that a restart resends from the older offset
   * (at-least-once).
   */
  private savePos(): void {
    const b = Buffer.from(String(this.acked).padStart(19, '0') + '\n');
    try {
      fs.writeSync(this.posFd, b, 0, b.length, 0);
    } catch (err) {
      this.writeErrors++;
      this.log('error', 'spool: cannot record the delivered offset; a restart would resend from the last recorded one', {
        spool: this.posPath,
        err: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
      });
    }
  }

  private readPos(): number {
    if (this.size === 0) return 0;
    const b = Buffer.alloc(32);
    const got = fs.readSync(this.posFd, b, 0, 32, 0);
    const n = Number(b.toString('latin1', 0, got).trim() || '0');
    if (!Number.isSafeInteger(n) || n <= 0 || n > this.size) return 0;
    // must be a record boundary
    const prev = Buffer.alloc(1);
    fs.readSync(this.fd, prev, 0, 1, n - 1);
    return prev[0] === 0x0a ? n : 0;
  }

  /** cut a torn last record left by a crash mid-append */
  private repairTail(): void {
    if (this.size === 0) return;
    const one = Buffer.alloc(1);
    fs.readSync(this.fd, one, 0, 1, this.size - 1);
    if (one[0] === 0x0a) return;
    let end = this.size;
    const chunk = Buffer.alloc(64 * 1024);
    let keep = 0;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const got = fs.readSync(this.fd, chunk, 0, end - start, start);
      const nl = chunk.lastIndexOf(0x0a, got - 1);
      if (nl >= 0) {
        keep = start + nl + 1;
        break;
      }
      end = start;
    }
    this.log('warn', 'spool: cut a torn last record (crash mid-append)', {
      spool: this.path,
      bytes: this.size - keep,
    });
    fs.ftruncateSync(this.fd, keep);
    this.size = keep;
  }

  private countRecords(from: number, to: number): number {
    let n = 0;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let pos = from; pos < to; ) {
      const got = fs.readSync(this.fd, chunk, 0, Math.min(chunk.length, to - pos), pos);
      if (got <= 0) break;
      for (let i = 0; i < got; i++) if (chunk[i] === 0x0a) n++;
      pos += got;
    }
    return n;
  }
}
