/**
 * A flow worker (node:worker_threads): decode, fragment and TCP reassembly,
 * the flow table and the per-flow events for the flows the dispatcher gives
 * it (parallel.ts). It runs the same Pipeline as the single-thread path, with
 * no detectors and its clock moved only by the dispatcher's ticks, and sends
 * its events back once per batch, each with the key that puts it where the
 * single-thread pipeline would have emitted it:
 *
 *   [2·seq + phase, class, touchSeq]
 *
 * seq: the packet (or tick) that caused it; phase 0: a flow expired at the
 * tick before packet seq, 1: packet seq itself. Expired flows are ordered as
 * one flow table would expire them: by timeout class, then by the packet
 * that last touched them. At the end of input seq is the packet count.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Pipeline } from '../pipeline.js';
import type { TrackerOptions } from '../flows/tracker.js';
import type { FlowRef } from '../flows/recent.js';
import type { NetEvent } from '../events/types.js';
import type { TsDigits } from '../capture/types.js';
import { HEADER, REC_TICK } from './batch.js';

export interface WorkerInit {
  index: number;
  tracker: TrackerOptions;
  uidSeed: [number, number];
  /** signal[index] is bumped after every result posted on `port` */
  signal: SharedArrayBuffer;
  port: MessagePort;
}

/** main → worker */
export type ToWorker = { type: 'batch'; buf: ArrayBuffer } | { type: 'finish'; seq: number };

/** worker → main, one per batch (and one for finish, with the worker's counters) */
export interface FromWorker {
  items: (NetEvent | FlowRef)[];
  /** 0: event, 1: new flow for the alert evidence index */
  tags: Uint8Array;
  /** 3 per item (see above) */
  keys: Float64Array;
  stats?: ReturnType<Pipeline['finish']>;
  error?: string;
}

const init = workerData as WorkerInit;
const sig = new Int32Array(init.signal);
const port = init.port;

let items: (NetEvent | FlowRef)[] = [];
let tags: number[] = [];
let keys: number[] = [];
let seq = 0;
let phase = 0;

const pipeline = new Pipeline({
  detectors: [], onAlert: () => {}, tracker: init.tracker, uidSeed: init.uidSeed, uidStream: init.index + 1, externalClock: true,
  onEvent: (e) => {
    const f = phase === 0 ? pipeline.tracker.closing : null;
    items.push(e); tags.push(0);
    keys.push(2 * seq + phase, f !== null ? f.cls : 0, f !== null ? f.touchSeq : 0);
  },
});
const noteFlow = (r: FlowRef): void => { items.push(r); tags.push(1); keys.push(2 * seq + 1, 0, 0); };
pipeline.tracker.onFlow = noteFlow;
const table = pipeline.tracker.table;

function send(stats?: FromWorker['stats'], error?: string): void {
  const k = new Float64Array(keys), t = new Uint8Array(tags);
  const m: FromWorker = { items, tags: t, keys: k };
  if (stats) m.stats = stats;
  if (error !== undefined) m.error = error;
  port.postMessage(m, [k.buffer, t.buffer]);
  items = []; tags = []; keys = [];
  Atomics.add(sig, init.index, 1);
  Atomics.notify(sig, init.index);
}

function run(ab: ArrayBuffer): void {
  const b = Buffer.from(ab);
  let o = 0;
  while (o < b.length) {
    const kind = b[o]!;
    seq = b.readDoubleLE(o + 8);
    const tsSec = b.readDoubleLE(o + 16), tsNsec = b.readUInt32LE(o + 24);
    if (kind === REC_TICK) {
      phase = 0;
      pipeline.advance(tsSec + tsNsec / 1e9);
      o += HEADER;
      continue;
    }
    phase = 1;
    table.clock = seq;
    const caplen = b.readUInt32LE(o + 28);
    pipeline.packet(b.readUInt32LE(o + 4), tsSec, tsNsec, b, o + HEADER, caplen, b.readUInt32LE(o + 32), b[o + 1]! as TsDigits);
    o += HEADER + ((caplen + 7) & ~7);
  }
}

parentPort!.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'batch') { run(m.buf); send(); return; }
    seq = m.seq; phase = 0;
    const stats = pipeline.finish();
    send(stats);
    parentPort!.close();
    port.close();
  } catch (e) {
    send(undefined, (e as Error).stack ?? String(e));
  }
});
