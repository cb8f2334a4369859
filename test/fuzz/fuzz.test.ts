/**
 * The fuzz run of the default suite: a fixed seed and a few thousand mutated
 * captures through the real reader and Pipeline (see harness.ts), and a
 * replay of every input a fuzz run ever found crashing (regressions/).
 * The long run is `npm run fuzz -- --iterations 1000000 [--seed N]` (run.ts).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANG_MS, REGRESSIONS, generate, runGenerated, runInput, seedCorpus } from './harness.js';

const SEED = 20261203;
const INPUTS = 2000;

describe('fuzz: mutated captures through the reader and every decoder', () => {
  it('the seed corpus holds the bundled captures and the crafted shapes (pointer loops, 100 extension headers, 10,000 fragments, megabyte header lines, 4 GiB block lengths)', () => {
    const names = seedCorpus().map((s) => s.name);
    for (const n of ['http-basic.pcap', 'dns-pointer-loops-udp', 'ipv6-100-ext-headers', 'ipv4-10000-fragments', 'http-megabyte-header-line', 'pcapng-block-length-fffffffc', 'tls-client-hello', 'sll2']) {
      expect(names).toContain(n);
    }
    // generation is a pure function of (seed, index): a crash can be made again from its number
    expect(generate(SEED, 17).bytes.equals(generate(SEED, 17).bytes)).toBe(true);
    expect(generate(SEED, 17).bytes.equals(generate(SEED, 18).bytes)).toBe(false);
  });

  it(`${INPUTS} inputs (seed ${SEED}): no exception escapes, none takes over ${HANG_MS / 1000} s, every event and alert line is one JSON object`, () => {
    let packets = 0, events = 0, damaged = 0;
    const crashes: string[] = [];
    for (let i = 0; i < INPUTS; i++) {
      try {
        const o = runGenerated(SEED, i);
        packets += o.packets; events += o.events; if (o.damaged) damaged++;
      } catch (e) {
        crashes.push(`input ${i} (seed ${SEED}): ${(e as Error).stack?.split('\n').slice(0, 3).join(' ')}`);
      }
    }
    expect(crashes).toEqual([]);
    // The run did reach the decoders: packets were read and events came out, and damage was met too.
    expect(packets).toBeGreaterThan(INPUTS * 10);
    expect(events).toBeGreaterThan(INPUTS);
    expect(damaged).toBeGreaterThan(0);
  }, 300_000);

  const files = existsSync(REGRESSIONS) ? readdirSync(REGRESSIONS).filter((f) => !f.startsWith('.') && !f.endsWith('.md')).sort() : [];
  for (const f of files) it(`regression ${f} replays without a crash, whole and in chunks`, () => {
    const bytes = readFileSync(join(REGRESSIONS, f));
    for (const split of [0, 1, 7, 4096]) {
      const o = runInput(bytes, split);
      expect(o.ms).toBeLessThan(HANG_MS);
    }
  }, 120_000);
});
