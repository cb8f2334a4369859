/**
 * Sink counters survive SIGHUP (MonotonicSink over real file sinks), and the
 * rate-limited logger turns one error per alert into one line per interval
 * with a count.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSink } from '../../../src/sinks/file.js';
import { MonotonicSink, rateLimitedLogger } from '../../../src/sinks/monotonic.js';
import { alert, ctx } from '../format/fixtures.js';

describe('MonotonicSink', () => {
  it('the replacing sink reports the counters of the one it replaced, gauges not summed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-mono-'));
    const p = path.join(dir, 'a.jsonl');
    const a = new MonotonicSink(new FileSink({ path: p, ctx }));
    for (let i = 0; i < 3; i++) a.write(alert);
    const b = new MonotonicSink(new FileSink({ path: p, ctx }), a); // what a reload does: new sink, same name
    await a.close();
    b.settle(a);
    for (let i = 0; i < 2; i++) b.write(alert);
    await b.flush();
    expect(b.stats().written).toBe(5);
    expect(b.stats().delivered).toBe(5);
    expect(b.stats().queued).toBe(0);
    const c = new MonotonicSink(new FileSink({ path: p, ctx }), b);
    await b.close();
    c.settle(b);
    expect(c.stats().written).toBe(5);
    await c.close();
    expect(fs.readFileSync(p, 'utf8').trim().split('\n')).toHaveLength(5);
  });
});

describe('rateLimitedLogger', () => {
  it('the same error is written once per interval, the next line carries how many were held back', () => {
    const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
    let t = 0;
    const log = rateLimitedLogger((l, m, o) => lines.push([l, m, o]), 10_000, () => t);
    for (let i = 0; i < 1000; i++) { t = i; log('error', 'spool: append failed', { err: 'ENOSPC' }); }
    log('error', 'another problem');
    expect(lines.map((l) => l[1])).toEqual(['spool: append failed', 'another problem']);
    t = 20_000;
    log('error', 'spool: append failed', { err: 'ENOSPC' });
    expect(lines[2]![2]).toMatchObject({ err: 'ENOSPC', repeated: 999 });
    log('error', 'spool: append failed', { err: 'ENOSPC' });
    log.flush();
    expect(lines[3]![2]).toMatchObject({ repeated: 1 });
    expect(lines).toHaveLength(4);
  });
  it('info and debug lines are never held back', () => {
    const lines: string[] = [];
    const log = rateLimitedLogger((_l, m) => lines.push(m), 10_000, () => 0);
    for (let i = 0; i < 5; i++) log('info', 'reconnected');
    expect(lines).toHaveLength(5);
  });
});
