/**
 * The long fuzz run: `npm run fuzz -- --iterations 1000000 [--seed N] [--from I]`.
 *
 * Inputs run in a worker thread (resource-limited heap) while this thread
 * watches: the worker publishes the index it is on in shared memory, so an
 * input stuck for more than HANG_MS is seen and the worker terminated; an
 * exception, a bad line or the heap limit ends the input too. Each crash is
 * made again from (seed, index) and written to test/fuzz/regressions/ (which
 * the suite replays), then the run goes on with the next input.
 * Prints progress every 10 s and a final line: inputs tried, crashes.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANG_MS, HEAP_LIMIT, REGRESSIONS, generate, runGenerated } from './harness.js';

interface Job { seed: number; from: number; to: number; progress: SharedArrayBuffer }
type Msg = { crash: number; error: string } | { done: true };

function worker(): void {
  const { seed, from, to, progress } = workerData as Job;
  const at = new Int32Array(progress);
  for (let i = from; i < to; i++) {
    Atomics.store(at, 0, i);
    Atomics.add(at, 1, 1);
    try {
      runGenerated(seed, i);
    } catch (e) {
      parentPort!.postMessage({ crash: i, error: (e as Error).stack ?? String(e) } satisfies Msg);
    }
  }
  parentPort!.postMessage({ done: true } satisfies Msg);
}

function args(): { iterations: number; seed: number; from: number } {
  const a = process.argv.slice(2);
  const get = (k: string, d: number): number => {
    const i = a.indexOf(`--${k}`);
    if (i < 0) return d;
    const v = Number(a[i + 1]);
    if (!Number.isInteger(v) || v < 0) { process.stderr.write(`fuzz: --${k} needs a whole number, got ${a[i + 1] ?? 'nothing'}\n`); process.exit(2); }
    return v;
  };
  for (const x of a) if (x.startsWith('--') && !['--iterations', '--seed', '--from'].includes(x)) { process.stderr.write(`fuzz: unknown option ${x} (known: --iterations N, --seed N, --from I)\n`); process.exit(2); }
  return { iterations: get('iterations', 100_000), seed: get('seed', 1), from: get('from', 0) };
}

function save(seed: number, index: number, why: string): string {
  mkdirSync(REGRESSIONS, { recursive: true });
  let made: ReturnType<typeof generate>;
  try {
    made = generate(seed, index);
  } catch (e) {
    // A bug of the generator itself, not of tapwatch: reported, nothing to save.
    process.stdout.write(`HARNESS ERROR seed ${seed} input ${index}: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}\n`);
    return '';
  }
  const { bytes, seedName } = made;
  const name = `seed${seed}-input${index}-${seedName.replace(/[^A-Za-z0-9.-]/g, '_')}.bin`;
  writeFileSync(join(REGRESSIONS, name), bytes);
  process.stdout.write(`CRASH seed ${seed} input ${index} (${seedName}): ${why.split('\n').slice(0, 4).join(' | ')}\n  saved ${join('test/fuzz/regressions', name)}\n`);
  return name;
}

async function main(): Promise<void> {
  const { iterations, seed, from } = args();
  const end = from + iterations;
  const progress = new SharedArrayBuffer(8);
  const at = new Int32Array(progress);
  const t0 = Date.now();
  let crashes = 0;
  let next = from;
  process.stdout.write(`fuzz: seed ${seed}, inputs ${from}..${end - 1}, hang bound ${HANG_MS / 1000} s, heap bound ${HEAP_LIMIT / 1048576} MiB\n`);
  while (next < end) {
    const w = new Worker(new URL(import.meta.url), {
      workerData: { seed, from: next, to: end, progress } satisfies Job,
      resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT / 1048576 + 256 },
    });
    const startedAt = next;
    Atomics.store(at, 0, next);
    const ended = await new Promise<number>((resolveEnd) => {
      let last = -1, lastChange = Date.now(), lastReport = Date.now();
      const timer = setInterval(() => {
        const cur = Atomics.load(at, 0);
        if (cur !== last) { last = cur; lastChange = Date.now(); }
        else if (Date.now() - lastChange > HANG_MS) {
          clearInterval(timer);
          crashes++;
          save(seed, cur, `hang: no progress for ${HANG_MS / 1000} s`);
          void w.terminate().then(() => resolveEnd(cur + 1));
          return;
        }
        if (Date.now() - lastReport >= 10_000) {
          lastReport = Date.now();
          const tried = Atomics.load(at, 1);
          process.stdout.write(`fuzz: ${tried} inputs tried (at ${cur}), ${crashes} crashes, ${Math.round(tried / ((Date.now() - t0) / 1000))} inputs/s\n`);
        }
      }, 250);
      w.on('message', (m: Msg) => {
        if ('crash' in m) { crashes++; save(seed, m.crash, m.error); }
        else { clearInterval(timer); resolveEnd(end); }
      });
      w.on('error', (e) => {
        // Out of memory (resourceLimits) or anything else killing the worker: the input it was on is the crash.
        clearInterval(timer);
        const cur = Atomics.load(at, 0);
        crashes++;
        save(seed, cur, `worker died: ${e.message}`);
        resolveEnd(cur + 1);
      });
    });
    next = Math.max(ended, startedAt + 1);
  }
  const tried = Atomics.load(at, 1);
  process.stdout.write(`fuzz: done: ${tried} inputs tried (seed ${seed}, ${from}..${end - 1}), ${crashes} crashes, ${Math.round((Date.now() - t0) / 1000)} s\n`);
  process.exitCode = crashes > 0 ? 1 : 0;
}

if (isMainThread) void main(); else worker();
