/**
 * Redis Streams output against a real redis-server (Debian's, on a unix
 * socket in a temp dir, started and stopped by PID here): entries are XADDed
 * with a MAXLEN ~ bound, and while Redis is down they wait in the on-disk
 * spool — a stop and restart mid-run ends with every alert in the stream
 * exactly once, in order.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { RedisSink, parseRedisUrl } from '../../src/sinks/redis.js';
import { RedisServer, REDIS_SERVER } from '../helpers/redis.js';
import type { Alert } from '../../src/alerts/types.js';
import { validateAlerts } from '../helpers/schemas.js';

const ctx = { hostname: 'sensor-a', sensor: 'eth0', version: 'test' };
const alert = (i: number): Alert => ({
  kind: 'port_scan', severity: 'medium', confidence: 0.9, src: '10.0.0.1', dst: '10.0.0.2', ts: 1700000000 + i, ts_first: 1700000000, ts_last: 1700000000 + i,
  summary: `alert ${i} \\x1b[2J`, evidence: { n: i },
});

async function until(f: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('redis url', () => {
  it('redis://host[:port][/db] and unix:///path', () => {
    expect(parseRedisUrl('redis://10.0.0.5')).toEqual({ host: '10.0.0.5', port: 6379, db: 0 });
    expect(parseRedisUrl('redis://[::1]:6380/2')).toEqual({ host: '::1', port: 6380, db: 2 });
    expect(parseRedisUrl('unix:///run/redis/redis.sock')).toEqual({ path: '/run/redis/redis.sock' });
    expect(() => parseRedisUrl('http://x')).toThrow(/expected redis:\/\/host/);
  });
});

describe.skipIf(!REDIS_SERVER)('Redis Streams sink with a real redis-server', () => {
  let root = '';
  let srv: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-redis-'));
    srv = new RedisServer(path.join(root, 'redis'));
    await srv.start();
    client = new Redis({ path: srv.socket, enableOfflineQueue: true, lazyConnect: true, retryStrategy: () => 50 });
    client.on('error', () => {});
  });
  afterAll(async () => {
    client?.disconnect();
    srv?.kill();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const entries = async (stream: string): Promise<Array<Record<string, string>>> => {
    const r = await client.xrange(stream, '-', '+');
    return r.map(([, f]) => { const o: Record<string, string> = {}; for (let i = 0; i < f.length; i += 2) o[f[i]!] = f[i + 1]!; return o; });
  };

  it('XADDs each alert with sensor, seq, type and the JSON body; MAXLEN ~ bounds the stream', async () => {
    await client.connect();
    const sink = new RedisSink({ url: srv.url, stream: 's1', maxLen: 100, format: 'json', ctx, spoolDir: path.join(root, 'spool1') });
    for (let i = 0; i < 1000; i++) sink.write(alert(i));
    await until(() => sink.stats().delivered === 1000, 10_000, '1000 delivered');
    const got = await entries('s1');
    // "~": Redis trims whole macro nodes, so a little over 100 remain, never all 1000
    expect(got.length).toBeGreaterThanOrEqual(100);
    expect(got.length).toBeLessThan(400);
    const last = got.at(-1)!;
    expect(last).toMatchObject({ sensor: 'sensor-a/eth0', type: 'alert' });
    expect(last.seq).toMatch(/^\d{16}$/);
    const body = JSON.parse(last.body!) as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'port_scan', ts: 1700000999, src: '10.0.0.1' });
    expect(validateAlerts(got.map((e) => e.body!), 'redis stream s1')).toBe(got.length);
    expect(last.body).not.toMatch(/\x1b/);
    await sink.close();
  });

  it('Redis stopped mid-run and restarted: every alert exactly once, in order (spooled meanwhile)', async () => {
    const spoolDir = path.join(root, 'spool2');
    const sink = new RedisSink({ url: srv.url, stream: 's2', maxLen: 1_000_000, format: 'json', ctx, spoolDir, retryMaxMs: 200 });
    let i = 0;
    const writeSome = async (n: number) => { for (let k = 0; k < n; k++) { sink.write(alert(i++)); if (k % 10 === 0) await new Promise((r) => setTimeout(r, 2)); } };
    await writeSome(200);
    await srv.stop(); // while alerts are still being written
    await writeSome(300);
    await until(() => sink.stats().spool_pending > 0, 5_000, 'alerts in the spool while Redis is down');
    const down = sink.stats();
    expect(down.connected).toBe(0);
    expect(down.dropped).toBe(0);
    await srv.start();
    await writeSome(200);
    await until(() => sink.stats().delivered >= 700 && sink.stats().spool_pending === 0, 15_000, 'all 700 delivered after the restart');
    await sink.close();
    const got = await entries('s2');
    const ts = got.map((e) => (JSON.parse(e.body!) as { ts: number }).ts - 1700000000);
    expect(ts).toEqual(Array.from({ length: 700 }, (_, k) => k));
    const seqs = got.map((e) => e.seq!);
    expect([...seqs].sort()).toEqual(seqs);
    expect(new Set(seqs).size).toBe(700);
    expect(sink.stats()).toMatchObject({ written: 700, dropped: 0 });
  }, 60_000);

  it('a resent batch that Redis already stored is skipped, not duplicated (per-sensor sequence)', async () => {
    const spoolDir = path.join(root, 'spool3');
    const a = new RedisSink({ url: srv.url, stream: 's3', maxLen: 1000, format: 'json', ctx, spoolDir });
    for (let k = 0; k < 5; k++) a.write(alert(k));
    await until(() => a.stats().delivered === 5, 5_000, '5 delivered');
    await a.close();
    // replay the same numbered entries through the same script, as after a lost reply
    const seqs = (await entries('s3')).map((e) => e.seq!);
    const b = new RedisSink({ url: srv.url, stream: 's3', maxLen: 1000, format: 'json', ctx, spoolDir });
    // the spool is how a failed batch comes back: put the five back in it with their numbers
    const spoolFile = fs.readdirSync(spoolDir).find((f) => f.endsWith('.spool'))!;
    await b.close();
    fs.writeFileSync(path.join(spoolDir, spoolFile), seqs.map((s, k) => `${s}\talert\t${JSON.stringify({ k })}\n`).join(''));
    fs.writeFileSync(path.join(spoolDir, spoolFile.replace(/\.spool$/, '.pos')), '0'.padStart(19, '0') + '\n');
    const c = new RedisSink({ url: srv.url, stream: 's3', maxLen: 1000, format: 'json', ctx, spoolDir });
    c.write(alert(5));
    await until(() => c.stats().delivered === 6, 5_000, 'spool resent and the new one delivered');
    expect(c.stats().duplicates_skipped).toBe(5);
    await c.close();
    const after = await entries('s3');
    expect(after.map((e) => (JSON.parse(e.body!) as { ts: number }).ts - 1700000000)).toEqual([0, 1, 2, 3, 4, 5]);
    // another sensor on the same stream has its own sequence
    const other = new RedisSink({ url: srv.url, stream: 's3', maxLen: 1000, format: 'json', ctx: { ...ctx, hostname: 'sensor-b' }, spoolDir: path.join(root, 'spool4') });
    other.write(alert(100));
    await until(() => other.stats().delivered === 1, 5_000, 'sensor-b delivered');
    await other.close();
    expect((await entries('s3')).map((e) => e.sensor)).toEqual([...Array(6).fill('sensor-a/eth0'), 'sensor-b/eth0']);
  }, 30_000);
});
