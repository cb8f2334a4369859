import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { FileSink, createFileSink } from '../../../src/sinks/file.js';
import { StdoutSink } from '../../../src/sinks/stdout.js';
import { alert, ctx, NASTY } from '../format/fixtures.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-file-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (p: string) => fs.readFileSync(p, 'utf8').split('\n');

describe('FileSink', () => {
  it('appends one JSON line per alert, each parseable, and counts delivered after flush', async () => {
    const p = path.join(dir, 'alerts.jsonl');
    const s = new FileSink({ path: p, ctx });
    for (let i = 0; i < 100; i++) s.write(alert({ dport: i, summary: NASTY }));
    await s.flush();
    const ls = lines(p);
    expect(ls).toHaveLength(101);
    expect(ls[100]).toBe('');
    expect(ls.slice(0, 100).map((l) => JSON.parse(l).dport)).toEqual([...Array(100).keys()]);
    expect(s.stats()).toMatchObject({ written: 100, delivered: 100, dropped: 0 });
    await s.close();
  });

  it('writes ecs and cef payloads when selected', async () => {
    const pe = path.join(dir, 'ecs.jsonl');
    const pc = path.join(dir, 'cef.log');
    const e = new FileSink({ path: pe, ctx, format: 'ecs' });
    const c = new FileSink({ path: pc, ctx, format: 'cef' });
    e.write(alert());
    c.write(alert());
    await Promise.all([e.close(), c.close()]);
    expect(JSON.parse(lines(pe)[0]!).event.kind).toBe('alert');
    expect(lines(pc)[0]!.startsWith('CEF:0|tapwatch|')).toBe(true);
  });

  it('starts with a newline when an earlier run left a torn last line', async () => {
    const p = path.join(dir, 'torn.jsonl');
    fs.writeFileSync(p, '{"ok":1}\n{"torn":');
    const s = new FileSink({ path: p, ctx });
    s.write(alert());
    await s.close();
    const ls = lines(p);
    expect(ls[0]).toBe('{"ok":1}');
    expect(ls[1]).toBe('{"torn":');
    expect(JSON.parse(ls[2]!).kind).toBe('port_scan');
    expect(s.stats().repaired_tail).toBe(1);
  });

  it('does not add a newline to a file that ends cleanly', async () => {
    const p = path.join(dir, 'clean.jsonl');
    fs.writeFileSync(p, '{"ok":1}\n');
    const s = new FileSink({ path: p, ctx });
    s.write(alert());
    await s.close();
    expect(lines(p)).toHaveLength(3);
  });

  it('reopen() after a logrotate rename writes new lines to a fresh file at the same path', async () => {
    const p = path.join(dir, 'rot.jsonl');
    const s = new FileSink({ path: p, ctx });
    s.write(alert({ dport: 1 }));
    await s.flush();
    fs.renameSync(p, p + '.1');
    s.write(alert({ dport: 2 })); // still goes to the renamed file (same fd) or the new one, never lost
    await s.reopen();
    s.write(alert({ dport: 3 }));
    await s.close();
    const old = lines(p + '.1').filter(Boolean).map((l) => JSON.parse(l).dport);
    const cur = lines(p).filter(Boolean).map((l) => JSON.parse(l).dport);
    expect([...old, ...cur]).toEqual([1, 2, 3]);
    expect(cur).toContain(3);
    expect(s.stats().reopens).toBe(1);
  });

  it('keeps lines whole with one write call per batch even for large lines', async () => {
    const p = path.join(dir, 'big.jsonl');
    const s = new FileSink({ path: p, ctx, maxBatchBytes: 4096 });
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 20; i++) s.write(alert({ summary: big, dport: i }));
    await s.close();
    const ls = lines(p).filter(Boolean);
    expect(ls.map((l) => JSON.parse(l).dport)).toEqual([...Array(20).keys()]);
  });

  it('counts and drops writes after close()', async () => {
    const p = path.join(dir, 'closed.jsonl');
    const s = new FileSink({ path: p, ctx });
    await s.close();
    s.write(alert());
    expect(s.stats()).toMatchObject({ written: 1, dropped: 1 });
  });

  it('throws at construction for an unwritable path', () => {
    expect(() => new FileSink({ path: path.join(dir, 'no', 'such', 'dir', 'x'), ctx })).toThrow();
  });
});

describe('StdoutSink / createFileSink', () => {
  it('"-" and "stdout" select the stdout sink', async () => {
    const a = createFileSink({ path: '-', ctx });
    const b = createFileSink({ path: 'stdout', ctx });
    expect(a).toBeInstanceOf(StdoutSink);
    expect(b).toBeInstanceOf(StdoutSink);
    await a.close();
    await b.close();
  });
  it('writes one line per alert to the stream and reports delivery after flush', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const s = new StdoutSink({ ctx, stream: out, format: 'text' });
    s.write(alert({ summary: 'evil\x1b[2J' }));
    await s.flush();
    expect(chunks.join('')).toMatch(/^2023-11-14T22:13:20\.123456Z HIGH .*evil\\x1b\[2J \(T1046\)\n$/);
    expect(s.stats()).toMatchObject({ written: 1, delivered: 1 });
    await s.close();
  });
  it('stops writing and counts drops after a stream error (EPIPE)', async () => {
    const out = new PassThrough();
    const s = new StdoutSink({ ctx, stream: out });
    out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    s.write(alert());
    expect(s.stats()).toMatchObject({ written: 1, dropped: 1, errors: 1 });
    await s.close();
  });
});
