/**
 * Live capture through the tapwatch-pcap addon against real traffic.
 *
 * As root, the test creates its own network namespace and veth pair (a /30 inside
 * 10.77.1.0/24), sends a bounded burst of UDP packets from inside the namespace to the
 * host-side veth and captures them there. On the receiving veth every packet the kernel
 * hands the capture socket is either delivered to the sink or counted as a drop, so the
 * accounting is exact (on `lo` each packet is seen twice by the kernel, which makes
 * ps_recv/ps_drop twice the packet count). Also: a slow sink with a tiny hand-off queue
 * must produce counted queue drops, never silent loss; bad filters and unknown interfaces
 * must give a CaptureError with a clear message.
 *
 * Everything created (namespace, veth, sender processes) is removed in afterAll; only
 * processes started here are waited for. Without root or without the addon the capture
 * tests are skipped with a printed reason.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { openLive, listInterfaces, captureAvailable, CaptureError, type LiveCapture } from '../../src/capture/live.js';
import type { PacketSink } from '../../src/capture/types.js';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const HAVE_IP = fs.existsSync('/usr/sbin/ip') || fs.existsSync('/sbin/ip') || fs.existsSync('/usr/bin/ip');
const avail = captureAvailable();
const SKIP_REASON = !IS_ROOT
  ? 'not running as root (live capture needs CAP_NET_RAW; the test also creates a network namespace)'
  : !avail.ok
    ? avail.reason
    : !HAVE_IP
      ? 'iproute2 (`ip`) not found'
      : '';
if (SKIP_REASON) console.log(`SKIP live capture integration: ${SKIP_REASON}`);

const SUFFIX = String(process.pid % 1_000_000);
const NS = `twlc${SUFFIX}`;
const VETH_HOST = `twl${SUFFIX}h`;
const VETH_NS = `twl${SUFFIX}n`;
const SUBNET = (process.pid % 60) * 4; // one /30 of 10.77.1.0/24 per run
const HOST_IP = `10.77.1.${SUBNET + 1}`;
const NS_IP = `10.77.1.${SUBNET + 2}`;

let nsReady = false;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function cleanupNetns(): void {
  try { ip('link', 'del', VETH_HOST); } catch { /* already gone */ }
  try { ip('netns', 'del', NS); } catch { /* already gone */ }
}

/** Sends `count` UDP datagrams (payload: u32 BE sequence number + filler) from inside the namespace. */
function sendFromNs(count: number, port: number, ratePerMs: number): Promise<{ sent: number; errors: number }> {
  const script = `
    const dgram = require('node:dgram');
    const s = dgram.createSocket('udp4');
    const count = ${count}, port = ${port}, perMs = ${ratePerMs};
    const deadline = Date.now() + 20000;
    let seq = 0, done = 0, errors = 0;
    s.bind({ address: '${NS_IP}' }, () => {
      const t0 = Date.now();
      const tick = () => {
        const due = Math.min(count, (Date.now() - t0 + 1) * perMs);
        while (seq < due) {
          const b = Buffer.alloc(64, 0x61);
          b.writeUInt32BE(seq++, 0);
          s.send(b, port, '${HOST_IP}', (err) => {
            if (err) errors++;
            if (++done === count) { s.close(); process.stdout.write(JSON.stringify({ sent: count - errors, errors })); }
          });
        }
        if (seq < count && Date.now() < deadline) setTimeout(tick, 1);
        else if (seq < count) { process.stdout.write(JSON.stringify({ sent: seq - errors, errors })); process.exit(0); }
      };
      tick();
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`sender exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(out) as { sent: number; errors: number });
    });
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Checks every packet: Ethernet/IPv4/UDP to our port, records its sequence number and time. */
class CheckingSink implements PacketSink {
  seen: Uint8Array;
  delivered = 0;
  duplicates = 0;
  bad = 0;
  minTs = Number.POSITIVE_INFINITY;
  maxTs = 0;
  maxNsec = 0;
  linktypes = new Set<number>();
  digits = new Set<number>();
  constructor(private readonly count: number, private readonly port: number, private readonly workNs = 0) {
    this.seen = new Uint8Array(count);
  }
  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: 6 | 9): void {
    this.delivered++;
    this.linktypes.add(linktype);
    if (digits !== undefined) this.digits.add(digits);
    const t = tsSec + tsNsec / 1e9;
    if (t < this.minTs) this.minTs = t;
    if (t > this.maxTs) this.maxTs = t;
    if (tsNsec > this.maxNsec) this.maxNsec = tsNsec;
    // Ethernet (14) + IPv4 (20, no options from the kernel) + UDP (8) + payload
    if (caplen !== wirelen || caplen < 14 + 20 + 8 + 4 || buf.readUInt16BE(off + 12) !== 0x0800 || buf.readUInt16BE(off + 36) !== this.port) {
      this.bad++;
      return;
    }
    const seq = buf.readUInt32BE(off + 42);
    if (seq >= this.count) { this.bad++; return; }
    if (this.seen[seq] === 1) this.duplicates++;
    this.seen[seq] = 1;
    if (this.workNs > 0) {
      const end = process.hrtime.bigint() + BigInt(this.workNs);
      while (process.hrtime.bigint() < end) { /* simulate a slow detector */ }
    }
  }
}

describe('live capture (tapwatch-pcap addon)', () => {
  beforeAll(() => {
    if (SKIP_REASON) return;
    cleanupNetns();
    ip('netns', 'add', NS);
    ip('link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS);
    ip('link', 'set', VETH_NS, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/30`, 'dev', VETH_HOST);
    ip('link', 'set', VETH_HOST, 'up');
    ip('-n', NS, 'addr', 'add', `${NS_IP}/30`, 'dev', VETH_NS);
    ip('-n', NS, 'link', 'set', VETH_NS, 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    // Static neighbour entries, so the start of the burst is not queued (and partly dropped) behind ARP.
    const hostMac = fs.readFileSync(`/sys/class/net/${VETH_HOST}/address`, 'utf8').trim();
    const nsMac = execFileSync('ip', ['netns', 'exec', NS, 'cat', `/sys/class/net/${VETH_NS}/address`], { timeout: 10_000 }).toString().trim();
    ip('neigh', 'replace', NS_IP, 'lladdr', nsMac, 'dev', VETH_HOST, 'nud', 'permanent');
    ip('-n', NS, 'neigh', 'replace', HOST_IP, 'lladdr', hostMac, 'dev', VETH_NS, 'nud', 'permanent');
    nsReady = true;
  });

  afterAll(() => {
    if (nsReady || !SKIP_REASON) cleanupNetns();
  });

  it('lists interfaces (lo is always there) without needing privileges', () => {
    expect(listInterfaces()).toContain('lo');
  });

  it('rejects an unknown interface with the list of available ones (root or not)', () => {
    if (!avail.ok && avail.reason.includes('tapwatch-pcap addon')) {
      expect(() => openLive({ iface: 'eth9' })).toThrow(/tapwatch-pcap addon, which was not built/);
      return;
    }
    let err: unknown;
    try { openLive({ iface: 'tw-nosuch0' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CaptureError);
    const msg = (err as CaptureError).message;
    expect(msg).toMatch(/^no such interface 'tw-nosuch0'; available: .*\blo\b/);
    expect(msg).not.toContain('\n');
    expect((err as CaptureError).code).toBe('ENODEV');
  });

  it.skipIf(!!SKIP_REASON)('reports a bad filter with libpcap\'s compiler message', () => {
    let err: unknown;
    try { openLive({ iface: 'lo', filter: 'udp and port banana' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).code).toBe('EFILTER');
    expect((err as CaptureError).message).toMatch(/^bad capture filter 'udp and port banana': .*banana/);
  });

  it.skipIf(!!SKIP_REASON)('captures a 20,000-packet burst on a veth: every packet delivered or counted, ns timestamps', async () => {
    const COUNT = 20_000;
    const PORT = 47_000 + (process.pid % 1000);
    const cap: LiveCapture = openLive({ iface: VETH_HOST, filter: `udp and dst port ${PORT} and src host ${NS_IP}`, promisc: false, bufferSize: 32 << 20 });
    expect(cap.linktype).toBe(1);
    expect(cap.tsDigits).toBe(9);
    const sink = new CheckingSink(COUNT, PORT);
    const errors: CaptureError[] = [];
    const t0 = Date.now() / 1000;
    cap.start(sink, (e) => errors.push(e));
    const res = await sendFromNs(COUNT, PORT, 50); // ~50 packets/ms
    const t1 = Date.now() / 1000;
    expect(res.sent).toBe(COUNT);
    const accounted = (): number => {
      const s = cap.stats();
      return s.packetsDelivered + s.dropped + s.queueDropped;
    };
    await until(() => accounted() >= COUNT, 5_000);
    await cap.close();
    const s = cap.stats();
    console.log(`live capture veth: sent ${res.sent}, stats ${JSON.stringify(s)}, ts span ${(sink.maxTs - sink.minTs).toFixed(3)} s`);
    expect(errors).toEqual([]);
    expect(sink.bad).toBe(0);
    expect(sink.duplicates).toBe(0);
    expect(s.packetsDelivered).toBe(sink.delivered);
    // The kernel saw every packet, and each one was either delivered or counted as dropped.
    expect(s.received).toBe(COUNT);
    expect(s.packetsDelivered + s.dropped + s.queueDropped).toBe(COUNT);
    expect(s.packetsDelivered).toBeGreaterThanOrEqual(COUNT * 0.9);
    // Timestamps: nanoseconds (digits 9, values not multiples of 1000 µs-scaled), inside the test's span.
    expect([...sink.linktypes]).toEqual([1]);
    expect([...sink.digits]).toEqual([9]);
    expect(sink.maxNsec).toBeLessThan(1e9);
    expect(sink.minTs).toBeGreaterThanOrEqual(t0 - 0.5);
    expect(sink.maxTs).toBeLessThanOrEqual(t1 + 0.5);
  });

  it.skipIf(!!SKIP_REASON)('delivers a lone packet on an otherwise idle interface within timeout + flush', async () => {
    const PORT = 46_000 + (process.pid % 1000);
    const cap = openLive({ iface: VETH_HOST, filter: `udp and dst port ${PORT}`, promisc: false, timeoutMs: 100, flushMs: 50 });
    const sink = new CheckingSink(1, PORT);
    cap.start(sink);
    await new Promise((r) => setTimeout(r, 100));
    const res = await sendFromNs(1, PORT, 1);
    const sentAt = Date.now();
    expect(res.sent).toBe(1);
    // With a blocking pcap_dispatch() on TPACKET_V3 this would wait for the next packet forever.
    const ok = await until(() => sink.delivered === 1, 2_000);
    const waited = Date.now() - sentAt;
    await cap.close();
    expect(ok).toBe(true);
    expect(waited).toBeLessThan(1_000);
  });

  it.skipIf(!!SKIP_REASON)('a slow sink with a tiny queue gets counted queue drops, never silent loss', async () => {
    const COUNT = 20_000;
    const PORT = 48_000 + (process.pid % 1000);
    const cap = openLive({
      iface: VETH_HOST,
      filter: `udp and dst port ${PORT} and src host ${NS_IP}`,
      promisc: false,
      batchBytes: 8192,
      queueBatches: 2,
      flushMs: 5,
      timeoutMs: 5,
    });
    const sink = new CheckingSink(COUNT, PORT, 100_000); // 100 µs per packet: ~10k packets/s at most
    cap.start(sink);
    const res = await sendFromNs(COUNT, PORT, 100);
    expect(res.sent).toBe(COUNT);
    await until(() => {
      const st = cap.stats();
      return st.packetsDelivered + st.dropped + st.queueDropped >= COUNT;
    }, 10_000);
    await cap.close();
    const s = cap.stats();
    console.log(`live capture slow sink: sent ${res.sent}, stats ${JSON.stringify(s)}`);
    expect(s.queueDropped).toBeGreaterThan(0);
    expect(s.received).toBe(COUNT);
    expect(s.packetsDelivered + s.dropped + s.queueDropped).toBe(COUNT);
    expect(sink.duplicates).toBe(0);
    expect(sink.bad).toBe(0);
  });

  it.skipIf(!!SKIP_REASON)('close() before start() and twice is harmless; stats stay readable', async () => {
    const cap = openLive({ iface: 'lo', filter: 'udp and dst port 9' });
    await cap.close();
    await cap.close();
    expect(cap.stats().packetsDelivered).toBe(0);
    expect(() => cap.start({ packet: () => undefined })).toThrow(CaptureError);
  });
});
