/**
 * A buffered, synchronous line writer for batch output (analyze): lines are
 * gathered into ~1 MiB and written with one writeSync, so a million event
 * lines cost a few hundred system calls. Every write is whole lines.
 */
import { openSync, writeSync, closeSync, fsyncSync } from 'node:fs';

export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly fd: number;
  private readonly owned: boolean;
  lines = 0;

  constructor(readonly path: string, readonly flushAt = 1 << 20) {
    if (path === '-' || path === '/dev/stdout') { this.fd = 1; this.owned = false; }
    else { this.fd = openSync(path, 'w'); this.owned = true; }
  }

  line(s: string): void {
    this.parts.push(s);
    this.size += s.length + 1;
    this.lines++;
    if (this.size >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const data = Buffer.from(this.parts.join('\n') + '\n', 'utf8');
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off, data.length - off);
      } catch (e) {
        // A non-blocking stdout pipe can be momentarily full: retry.
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; }
        throw e;
      }
    }
  }

  close(): void {
    this.flush();
    if (this.owned) {
      try { fsyncSync(this.fd); } catch { /* not a regular file */ }
      closeSync(this.fd);
    }
  }
}
