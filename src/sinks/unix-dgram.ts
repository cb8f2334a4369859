/**
 * Syslog to the local datagram socket (/dev/log: journald or rsyslog
 * imuxsock). Node and libuv have no AF_UNIX SOCK_DGRAM sockets, so the three
 * system calls come from the project's native addon (tapwatch-pcap,
 * src/capture/native), which the capture needs anyway.
 *
 * A local datagram send fails at once and says why, so delivery here is
 * exact: success means the message sits in the receiver's socket queue.
 * When nobody listens (ECONNREFUSED, ENOENT: the daemon is restarting) or its
 * queue is full (EAGAIN, ENOBUFS), messages go to the spool, in order, and a
 * retry timer with backoff delivers them one by one, acknowledging each after
 * its send succeeds. Only a full spool drops (counted, logged). One edge
 * remains, as with TCP: datagrams already queued in the receiving socket
 * when the daemon dies are lost with it (the kernel had accepted them).
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';
import type { SpoolFile } from './spool-file.js';

interface DgramAddon {
  unixDgramOpen(): number;
  unixDgramSend(fd: number, path: string, buf: Buffer): number;
  unixDgramClose(fd: number): void;
}

const E = constants.errno;
/** errors that mean "not now": spool and retry */
const RETRY = new Set([E.ECONNREFUSED, E.ENOENT, E.EAGAIN, E.ENOBUFS, E.ENOTCONN].filter((x) => x !== undefined));

let addon: DgramAddon | null = null;

/** Loads the addon's datagram calls, or throws one line saying what is missing. */
export function loadDgramAddon(): DgramAddon {
  if (addon) return addon;
  try {
    const req = createRequire(import.meta.url);
    const m = req('tapwatch-pcap') as Partial<DgramAddon>;
    if (typeof m.unixDgramSend !== 'function') throw new Error('the installed addon predates unix datagram support');
    addon = m as DgramAddon;
    return addon;
  } catch (e) {
    throw new Error(
      `syslog to a unix datagram socket needs the tapwatch-pcap addon (src/capture/native), which could not be loaded ` +
        `(${(e as Error).message.split('\n')[0]}): install libpcap-dev and run npm install; or use udp://127.0.0.1:514`,
    );
  }
}

export interface UnixDgramSenderOptions {
  name: string;
  path: string;
  spool: SpoolFile;
  logger?: SinkLogger;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export class UnixDgramSender {
  private readonly a: DgramAddon;
  private readonly fd: number;
  private readonly log: SinkLogger;
  private down = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private lastDropLog = 0;
  private readonly c = { written: 0, delivered: 0, spooled: 0, dropped: 0, errors: 0 };

  constructor(private readonly o: UnixDgramSenderOptions) {
    this.a = loadDgramAddon();
    this.fd = this.a.unixDgramOpen();
    this.log = o.logger ?? nullLogger;
    this.delay = o.retryInitialMs ?? 250;
  }

  send(msg: string): void {
    this.c.written++;
    if (this.closed) { this.drop('sender closed'); return; }
    // Keep order: while anything is spooled, new messages queue behind it.
    if (this.down || !this.o.spool.isEmpty) { this.spool(msg); return; }
    const rc = this.a.unixDgramSend(this.fd, this.o.path, Buffer.from(msg));
    if (rc === 0) { this.c.delivered++; return; }
    this.failed(rc);
    if (RETRY.has(rc)) this.spool(msg);
    else this.drop(`send failed: ${errName(rc)}`);
  }

  flush(): Promise<void> {
    // Sends are synchronous; what is not delivered is safely in the spool.
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.o.spool.rewind();
    this.o.spool.close();
    this.a.unixDgramClose(this.fd);
  }

  stats(): Record<string, number> {
    return { ...this.c, down: this.down ? 1 : 0, spool_pending: this.o.spool.pendingRecords, spool_bytes: this.o.spool.pendingBytes, spool_write_errors: this.o.spool.writeErrors };
  }

  private failed(rc: number): void {
    this.c.errors++;
    if (RETRY.has(rc) && !this.down) {
      this.down = true;
      this.log('warn', `syslog ${this.o.name}: ${errName(rc)}, spooling alerts until the syslog daemon is back`, { spool: this.o.spool.path });
    }
  }

  private spool(msg: string): void {
    if (this.o.spool.append(msg)) this.c.spooled++; else this.drop(this.o.spool.failReason);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = this.down ? this.delay : 0;
    this.timer = setTimeout(() => { this.timer = null; this.drain(); }, wait);
    this.timer.unref();
  }

  /** Sends spooled messages in order, one acknowledged at a time, until one fails. */
  private drain(): void {
    const sp = this.o.spool;
    while (!this.closed && sp.hasUnsent) {
      const b = sp.take(64 * 1024, 1);
      if (!b) break;
      const rc = this.a.unixDgramSend(this.fd, this.o.path, Buffer.from(b.msgs[0]!));
      if (rc !== 0) {
        sp.rewind();
        this.failed(rc);
        if (!RETRY.has(rc)) { sp.ack(b.end, 1); this.drop(`send failed: ${errName(rc)}`); continue; }
        this.delay = Math.min(this.delay * 2, this.o.retryMaxMs ?? 30_000);
        this.schedule();
        return;
      }
      sp.ack(b.end, 1);
      this.c.delivered++;
      if (this.down) {
        this.down = false;
        this.delay = this.o.retryInitialMs ?? 250;
        this.log('info', `syslog ${this.o.name}: syslog daemon reachable again, delivering spooled alerts`, { spool_pending: sp.pendingRecords });
      }
    }
  }

  private drop(why: string): void {
    this.c.dropped++;
    const now = Date.now(); // only to rate-limit our own log line
    if (this.lastDropLog === 0 || now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      this.log('error', `syslog ${this.o.name}: DROPPING ALERTS (${why})`, { dropped_total: this.c.dropped });
    }
  }
}

function errName(rc: number): string {
  for (const [k, v] of Object.entries(E)) if (v === rc) return k;
  return `errno ${rc}`;
}
