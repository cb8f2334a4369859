/**
 * `analyze` shows a progress line on a terminal only: a real pseudo-terminal
 * (util-linux `script`) gets it, a pipe and --quiet get none.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ethernet, ipv4Packet, udp } from '../helpers/craft.js';
import { which } from '../helpers/netns.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-progress-'));
const big = join(dir, 'big.pcap');

/** 2 M UDP datagrams 20 µs apart (≈ 150 MB): long enough to analyse that the line is drawn a few times (400 k took under a second once the flow path got faster) */
beforeAll(() => {
  const frame = Buffer.from(ethernet(ipv4Packet('10.1.0.1', '10.1.0.2', 17, udp(1000, 2000, new Array<number>(16).fill(0x61)))));
  const n = 2_000_000, rec = 16 + frame.length;
  const b = Buffer.alloc(24 + n * rec);
  b.writeUInt32LE(0xa1b2c3d4, 0); b.writeUInt16LE(2, 4); b.writeUInt16LE(4, 6); b.writeUInt32LE(262144, 16); b.writeUInt32LE(1, 20);
  for (let i = 0; i < n; i++) {
    const o = 24 + i * rec, t = i * 20;
    b.writeUInt32LE(1700000000 + Math.floor(t / 1e6), o); b.writeUInt32LE(t % 1e6, o + 4);
    b.writeUInt32LE(frame.length, o + 8); b.writeUInt32LE(frame.length, o + 12);
    frame.copy(b, o + 16);
    b.writeUInt16BE(1024 + (i % 60000), o + 16 + 34); // a new flow per source port
  }
  writeFileSync(big, b);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('analyze: progress on a terminal', () => {
  it('stderr that is a pipe gets no progress line (no carriage return, no ETA)', () => {
    const r = spawnSync(process.execPath, [CLI, 'analyze', big, '-o', '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/--- tapwatch summary ---/);
    expect(r.stderr).not.toMatch(/\r|ETA|\x1b/);
  });

  it.skipIf(!which('script'))('a pseudo-terminal gets bytes read, packets/s and ETA redrawn in place, erased before the summary', () => {
    const cmd = `${process.execPath} ${CLI} analyze ${big} -o /dev/null`;
    const t0 = Date.now();
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    const took = Date.now() - t0;
    expect(r.status).toBe(0);
    const draws = r.stdout.split('\r').filter((s) => /packets\/s/.test(s) && / MiB \/ /.test(s));
    expect(draws.length).toBeGreaterThan(0);
    expect(draws[0]).toMatch(/^\d+(\.\d)? (B|KiB|MiB) \/ \d+(\.\d)? MiB \(\d+%\)  [\d.]+ (k |M )?packets\/s/);
    // an ETA needs a second of rate history (formatProgress); an idle machine can read the file faster
    if (took > 2500) expect(r.stdout).toMatch(/ETA \d/);
    // the line is erased, so the summary starts clean
    expect(r.stdout).toMatch(/\r\x1b\[K(\r\n)*--- tapwatch summary ---/);
  });

  it.skipIf(!which('script'))('--quiet on a terminal: no progress line either', () => {
    const cmd = `${process.execPath} ${CLI} analyze -q ${big} -o /dev/null`;
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/packets\/s|ETA/);
  });
});
