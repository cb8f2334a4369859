import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SpoolFile, SpoolingStreamSender } from '../../../src/sinks/spool.js';
import type { LogLevel } from '../../../src/sinks/sink.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-spool-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function drainAll(s: SpoolFile): string[] {
  const out: string[] = [];
  for (let b = s.take(); b; b = s.take()) {
    out.push(...b.msgs);
    s.ack(b.end, b.msgs.length);
  }
  return out;
}

describe('SpoolFile', () => {
  it('hands records out in order, truncates the file once all are acknowledged', () => {
    const s = new SpoolFile({ dir, name: 't' });
    for (let i = 0; i < 100; i++) expect(s.append(`m${i}`)).toBe(true);
    expect(s.pendingRecords).toBe(100);
    expect(drainAll(s)).toEqual([...Array(100).keys()].map((i) => `m${i}`));
    expect(s.isEmpty).toBe(true);
    expect(fs.statSync(s.path).size).toBe(0);
    s.close();
  });

  it('refuses appends beyond maxBytes of undelivered data', () => {
    const s = new SpoolFile({ dir, name: 't', maxBytes: 100 });
    let ok = 0;
    while (s.append('x'.repeat(9))) ok++; // 10 bytes per record
    expect(ok).toBe(10);
    expect(s.pendingBytes).toBe(100);
    s.close();
  });

  it('resumes after a restart from the first unacknowledged record', () => {
    const a = new SpoolFile({ dir, name: 't' });
    for (let i = 0; i < 10; i++) a.append(`m${i}`);
    const b1 = a.take(64 * 1024, 4)!;
    expect(b1.msgs).toEqual(['m0', 'm1', 'm2', 'm3']);
    a.ack(b1.end, 4);
    a.take(); // handed out but never acknowledged
    a.close();
    const b = new SpoolFile({ dir, name: 't' });
    expect(b.pendingRecords).toBe(6);
    expect(drainAll(b)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    b.close();
  });

  it('cuts a torn last record left by a crash and keeps the whole ones', () => {
    fs.writeFileSync(path.join(dir, 't.spool'), 'one\ntwo\nthr');
    const logs: string[] = [];
    const s = new SpoolFile({ dir, name: 't', logger: (_l, m) => logs.push(m) });
    expect(drainAll(s)).toEqual(['one', 'two']);
    expect(logs.some((l) => l.includes('torn'))).toBe(true);
    s.close();
  });

  it('rewind() hands out unacknowledged records again; prepend() puts messages in front', () => {
    const s = new SpoolFile({ dir, name: 't' });
    s.append('c');
    s.append('d');
    expect(s.take()!.msgs).toEqual(['c', 'd']);
    s.rewind();
    s.prepend(['a', 'b']);
    expect(s.pendingRecords).toBe(4);
    expect(drainAll(s)).toEqual(['a', 'b', 'c', 'd']);
    s.close();
  });

  it('compacts the delivered head under pressure without breaking batches in flight', () => {
    const s = new SpoolFile({ dir, name: 't', maxBytes: 1000 });
    for (let i = 0; i < 90; i++) expect(s.append(`r${String(i).padStart(6, '0')}`)).toBe(true); // 8+1+1 = 10 bytes
    const b1 = s.take(400)!; // 40 records
    const b2 = s.take(100)!; // 10 records, still in flight
    s.ack(b1.end, b1.msgs.length);
    for (let i = 90; i < 120; i++) expect(s.append(`r${String(i).padStart(6, '0')}`)).toBe(true); // forces compaction
    expect(s.fileBytes).toBeLessThanOrEqual(1000);
    s.ack(b2.end, b2.msgs.length);
    const rest = drainAll(s);
    expect([...b1.msgs, ...b2.msgs, ...rest]).toEqual([...Array(120).keys()].map((i) => `r${String(i).padStart(6, '0')}`));
    s.close();
  });

  it('never stores a raw newline inside a record', () => {
    const s = new SpoolFile({ dir, name: 't' });
    s.append('a\nb');
    expect(drainAll(s)).toEqual(['a\\x0ab']);
    s.close();
  });
});

/** a TCP syslog receiver parsing RFC 6587 octet-counted frames */
class Receiver {
  server: net.Server;
  msgs: string[] = [];
  socks = new Set<net.Socket>();
  constructor() {
    this.server = net.createServer((sock) => {
      this.socks.add(sock);
      let buf = Buffer.alloc(0);
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const sp = buf.indexOf(0x20);
          if (sp < 0) break;
          const len = Number(buf.subarray(0, sp).toString());
          if (buf.length < sp + 1 + len) break;
          this.msgs.push(buf.subarray(sp + 1, sp + 1 + len).toString());
          buf = buf.subarray(sp + 1 + len);
        }
      });
      sock.on('close', () => this.socks.delete(sock));
      sock.on('error', () => {});
    });
  }
  listen(port = 0): Promise<number> {
    return new Promise((r) => this.server.listen(port, '127.0.0.1', () => r((this.server.address() as net.AddressInfo).port)));
  }
  stop(): Promise<void> {
    for (const s of this.socks) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sender(port: number, extra: Partial<ConstructorParameters<typeof SpoolingStreamSender>[0]> = {}) {
  return new SpoolingStreamSender({
    name: `tcp://127.0.0.1:${port}`,
    connect: () => net.createConnection({ host: '127.0.0.1', port }),
    frame: (m) => `${Buffer.byteLength(m)} ${m}`,
    spool: new SpoolFile({ dir, name: 's' }),
    retryInitialMs: 20,
    retryMaxMs: 100,
    ...extra,
  });
}

describe('SpoolingStreamSender', () => {
  it('delivers in order over a healthy connection without touching the spool', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    const tx = sender(port);
    for (let i = 0; i < 500; i++) tx.send(`msg ${i} é`);
    await tx.flush();
    await until(() => rx.msgs.length === 500);
    expect(rx.msgs).toEqual([...Array(500).keys()].map((i) => `msg ${i} é`));
    expect(tx.stats()).toMatchObject({ written: 500, delivered: 500, spooled: 0, dropped: 0 });
    await tx.close();
    await rx.stop();
  });

  it('spools while the server is down and delivers everything in order once it comes up', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    await rx.stop(); // port now free and closed
    const tx = sender(port);
    for (let i = 0; i < 50; i++) tx.send(`m${i}`);
    await tx.flush();
    await until(() => tx.stats().spooled === 50);
    const rx2 = new Receiver();
    await rx2.listen(port);
    await until(() => rx2.msgs.length === 50);
    expect(rx2.msgs).toEqual([...Array(50).keys()].map((i) => `m${i}`));
    expect(await tx.drained(2000)).toBe(true);
    expect(tx.stats()).toMatchObject({ written: 50, delivered: 50, dropped: 0 });
    expect(fs.statSync(path.join(dir, 's.spool')).size).toBe(0);
    await tx.close();
    await rx2.stop();
  });

  it('survives a server restart mid-stream: every message exactly once, in order', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    const tx = sender(port);
    const N = 300;
    let restarted: Receiver | null = null;
    for (let i = 0; i < N; i++) {
      tx.send(`m${i}`);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
      if (i === 100) await rx.stop();
      if (i === 200) {
        restarted = new Receiver();
        await restarted.listen(port);
      }
    }
    await until(() => rx.msgs.length + (restarted?.msgs.length ?? 0) >= N && tx.stats().delivered === N, 10000);
    const all = [...rx.msgs, ...restarted!.msgs];
    expect(all).toEqual([...Array(N).keys()].map((i) => `m${i}`));
    expect(tx.stats().spooled).toBeGreaterThan(0);
    await tx.close();
    await restarted!.stop();
  });

  it('drops only when the spool is full, counting and logging it loudly', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    await rx.stop();
    const logs: Array<[LogLevel, string]> = [];
    const tx = sender(port, {
      spool: new SpoolFile({ dir, name: 'small', maxBytes: 50 }),
      logger: (l, m) => logs.push([l, m]),
    });
    for (let i = 0; i < 20; i++) tx.send(`msg${i}`); // msg0..msg9 are 4 bytes + '\n': 10 fit
    await tx.flush();
    await until(() => tx.stats().spooled + tx.stats().dropped === 20);
    expect(tx.stats()).toMatchObject({ spooled: 10, dropped: 10 });
    expect(logs.some(([l, m]) => l === 'error' && m.includes('DROPPING'))).toBe(true);
    expect(logs.some(([l, m]) => l === 'warn' && m.includes('unavailable'))).toBe(true);
    await tx.close();
  });

  it('resendWindowMs: after a disconnect, recently confirmed messages are sent again, before the rest, in order', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    const tx = sender(port, { resendWindowMs: 60_000 });
    for (let i = 0; i < 5; i++) tx.send(`a${i}`);
    await until(() => tx.stats().delivered === 5 && rx.msgs.length === 5);
    await rx.stop();
    await until(() => tx.stats().disconnects === 1);
    for (let i = 0; i < 3; i++) tx.send(`b${i}`);
    const rx2 = new Receiver();
    await rx2.listen(port);
    await until(() => rx2.msgs.length === 8);
    expect(rx2.msgs).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
    expect(tx.stats().resent_window).toBe(5);
    await tx.close();
    await rx2.stop();
  });

  it('without resendWindowMs a disconnect after confirmed writes resends nothing', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    const tx = sender(port);
    for (let i = 0; i < 5; i++) tx.send(`a${i}`);
    await until(() => tx.stats().delivered === 5 && rx.msgs.length === 5);
    await rx.stop();
    await until(() => tx.stats().disconnects === 1);
    tx.send('b0');
    const rx2 = new Receiver();
    await rx2.listen(port);
    await until(() => rx2.msgs.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(rx2.msgs).toEqual(['b0']);
    await tx.close();
    await rx2.stop();
  });

  it('keeps the spool across close() and a new sender delivers it first', async () => {
    const rx = new Receiver();
    const port = await rx.listen();
    await rx.stop();
    const tx = sender(port);
    for (let i = 0; i < 5; i++) tx.send(`old${i}`);
    await tx.flush();
    await tx.close();
    const rx2 = new Receiver();
    await rx2.listen(port);
    const tx2 = sender(port);
    tx2.send('new');
    await until(() => rx2.msgs.length === 6);
    expect(rx2.msgs).toEqual(['old0', 'old1', 'old2', 'old3', 'old4', 'new']);
    await tx2.close();
    await rx2.stop();
  });
});
