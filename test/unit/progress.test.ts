import { describe, it, expect } from 'vitest';
import { formatProgress, formatBytes, formatDuration, ProgressLine } from '../../src/cli/progress.js';

describe('analyze progress line: formatting', () => {
  it('bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(412 * 1048576)).toBe('412 MiB');
    expect(formatBytes(1.25 * 1024 ** 3)).toBe('1.3 GiB');
  });

  it('durations as s, m s, h m s', () => {
    expect(formatDuration(7.4)).toBe('7s');
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(3725)).toBe('1h02m05s');
    expect(formatDuration(-3)).toBe('0s');
  });

  it('bytes of the total with percentage, packets/s and an ETA from the byte rate', () => {
    // a quarter read in 10 s: 30 s left
    const s = formatProgress({ bytes: 256 * 1048576, total: 1024 * 1048576, packets: 2_000_000, elapsed: 10 });
    expect(s).toBe('256 MiB / 1.0 GiB (25%)  200 k packets/s  ETA 30s');
  });

  it('no total (stdin): no percentage and no ETA', () => {
    expect(formatProgress({ bytes: 5 * 1048576, total: 0, packets: 1500, elapsed: 2 })).toBe('5.0 MiB  750 packets/s');
  });

  it('no ETA in the first second (no rate yet), and millions of packets/s as M', () => {
    expect(formatProgress({ bytes: 10, total: 100, packets: 10, elapsed: 0.5 })).toBe('10 B / 100 B (10%)  20 packets/s');
    expect(formatProgress({ bytes: 100, total: 100, packets: 2_500_000, elapsed: 1 })).toBe('100 B / 100 B (100%)  2.50 M packets/s  ETA 0s');
  });

  it('draws nothing on a stream that is not a TTY', async () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const p = new ProgressLine({ stream, total: 100, packets: () => 1, everyMs: 5 });
    p.counter.bytes = 50;
    await new Promise((r) => setTimeout(r, 30));
    p.stop();
    expect(written).toEqual([]);
  });

  it('on a TTY redraws one line in place and erases it at stop', async () => {
    const written: string[] = [];
    const stream = { isTTY: true, columns: 80, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const p = new ProgressLine({ stream, total: 100, packets: () => 1, everyMs: 5 });
    p.counter.bytes = 50;
    await new Promise((r) => setTimeout(r, 40));
    p.stop();
    expect(written.length).toBeGreaterThan(1);
    expect(written[0]).toMatch(/^\r50 B \/ 100 B \(50%\) .*\x1b\[K$/);
    expect(written.at(-1)).toBe('\r\x1b[K');
  });
});
