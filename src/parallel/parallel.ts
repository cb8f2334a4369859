/**
 * Offline analysis with N flow workers (`analyze --workers N`):
 *
 *   reader (main) ──batches by address pair──▶ flow workers: decode, flows, events
 *        ▲                                               │ one message per batch
 *        └── detectors (main) ◀── merge in stream order ─┘
 *
 * The reader's thread keeps the one clock: it runs the single-thread
 * pipeline's clock over the whole stream and sends a tick to every worker at
 * the packets where that clock enters a new second, so every worker expires
 * flows at the same packet time as one pipeline would. Each batch's events
 * come back keyed by stream position (flow-worker.ts) and are merged into the
 * exact order the single-thread pipeline emits them, then handed to the
 * detectors (and the event log) of the main Pipeline, with advance() at the
 * same ticks. Detectors therefore see the same events in the same order at
 * the same clock in any mode.
 *
 * Waiting is synchronous (Atomics.wait on a counter the worker bumps, then
 * receiveMessageOnPort): the reader is itself synchronous, and at most
 * MAX_INFLIGHT batches per worker are queued, which bounds memory.
 *
 * What differs from one thread: the flow cap (flows.maxFlows) and the
 * fragment limits apply per worker (maxFlows / N each), so eviction under a
 * flood picks other victims.
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { PacketSink, TsDigits } from '../capture/types.js';
import type { Pipeline, PipelineStats } from '../pipeline.js';
import type { TrackerOptions } from '../flows/tracker.js';
import { DNS_TX_DEFAULTS } from '../flows/transactions.js';
import type { FlowRef } from '../flows/recent.js';
import type { NetEvent } from '../events/types.js';
import { BatchWriter } from './batch.js';
import { Dispatcher } from './dispatch-hash.js';
import type { FromWorker, ToWorker, WorkerInit } from './flow-worker.js';

/** packets per round of batches (all workers' batches are sent together) */
const ROUND_PACKETS = 16384;
const BATCH_BYTES = 4 * 1024 * 1024;
const MAX_INFLIGHT = 4;
/** a worker silent this long is taken for dead */
const WORKER_TIMEOUT_MS = 120_000;

export interface ParallelOptions {
  workers: number;
  tracker: TrackerOptions;
  uidSeed: [number, number];
  defaultDigits?: TsDigits;
}

interface Slot { worker: Worker; port: MessagePort; writer: BatchWriter; packets: number }

export class ParallelAnalysis implements PacketSink {
  private readonly slots: Slot[] = [];
  private readonly sig: Int32Array;
  private readonly dispatch: Dispatcher;
  /** ticks of each round in flight: [seq, ts] pairs */
  private readonly inflight: number[][] = [];
  private ticks: number[] = [];
  private inRound = 0;
  private seq = 0;
  private now = 0;
  private tickSecond = -1;
  private readonly digits: TsDigits;
  private readonly clock = { packets: 0, bytes: 0, outOfOrder: 0, firstTs: 0, lastTs: 0 };

  constructor(private readonly main: Pipeline, o: ParallelOptions) {
    const n = o.workers;
    this.digits = o.defaultDigits ?? 6;
    this.dispatch = new Dispatcher(n);
    const shared = new SharedArrayBuffer(4 * n);
    this.sig = new Int32Array(shared);
    // the caps are the process's: each worker holds its share
    const tracker: TrackerOptions = {
      ...o.tracker, ...(o.tracker.maxFlows !== undefined ? { maxFlows: Math.ceil(o.tracker.maxFlows / n) } : {}),
      dnsPending: { ...o.tracker.dnsPending, total: Math.ceil((o.tracker.dnsPending?.total ?? DNS_TX_DEFAULTS.total) / n) },
    };
    for (let i = 0; i < n; i++) {
      const ch = new MessageChannel();
      const init: WorkerInit = { index: i, tracker, uidSeed: o.uidSeed, signal: shared, port: ch.port2 };
      const worker = new Worker(new URL('./flow-worker.js', import.meta.url), { workerData: init, transferList: [ch.port2] });
      this.slots.push({ worker, port: ch.port1, writer: new BatchWriter(BATCH_BYTES), packets: 0 });
    }
  }

  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void {
    // The single-thread pipeline's clock (Pipeline.packet), over the whole stream.
    const c = this.clock;
    c.packets++;
    c.bytes += wirelen;
    const ts = tsSec + tsNsec / 1e9;
    if (ts > this.now) {
      if (c.firstTs === 0) c.firstTs = ts;
      this.now = ts;
      c.lastTs = ts;
      const sec = Math.floor(ts);
      if (sec !== this.tickSecond) {
        this.tickSecond = sec;
        for (const s of this.slots) s.writer.tick(this.seq, tsSec, tsNsec);
        this.ticks.push(this.seq, ts);
      }
    } else if (ts < this.now - 1) {
      c.outOfOrder++;
    }
    const s = this.slots[this.dispatch.owner(linktype, buf, off, caplen)]!;
    s.writer.packet(this.seq, linktype, tsSec, tsNsec, buf, off, caplen, wirelen, digits ?? this.digits);
    s.packets++;
    this.seq++;
    if (++this.inRound >= ROUND_PACKETS || s.writer.len >= BATCH_BYTES) this.sendRound();
  }

  /** packets read so far (the progress line) */
  get packets(): number { return this.clock.packets; }

  /** End of input: the rest of the stream, every worker's open flows, then the detectors' flush. */
  finish(): PipelineStats {
    if (this.inRound > 0 || this.ticks.length > 0) this.sendRound();
    while (this.inflight.length > 0) this.mergeRound();
    for (const s of this.slots) s.worker.postMessage({ type: 'finish', seq: this.seq } satisfies ToWorker);
    const results = this.slots.map((s, i) => this.receive(i));
    this.merge(results, []);
    for (const s of this.slots) void s.worker.terminate();
    if (this.now > this.main.now) this.main.now = this.now; // as the single-thread clock ends (no advance)
    const st = this.main.finish();
    return this.combine(st, results.map((r) => r.stats!));
  }

  private sendRound(): void {
    for (const s of this.slots) {
      const buf = s.writer.take();
      s.worker.postMessage({ type: 'batch', buf } satisfies ToWorker, [buf]);
    }
    this.inflight.push(this.ticks);
    this.ticks = [];
    this.inRound = 0;
    if (this.inflight.length >= MAX_INFLIGHT) this.mergeRound();
  }

  private mergeRound(): void {
    const ticks = this.inflight.shift()!;
    this.merge(this.slots.map((_s, i) => this.receive(i)), ticks);
  }

  /** The next result of worker i (blocks: see the header). */
  private receive(i: number): FromWorker {
    const s = this.slots[i]!;
    const started = Date.now();
    for (;;) {
      const v = Atomics.load(this.sig, i);
      const m = receiveMessageOnPort(s.port);
      if (m !== undefined) {
        const r = m.message as FromWorker;
        if (r.error !== undefined) throw new Error(`flow worker ${i} failed: ${r.error}`);
        return r;
      }
      if (Date.now() - started > WORKER_TIMEOUT_MS) throw new Error(`flow worker ${i} stopped answering (${WORKER_TIMEOUT_MS / 1000} s)`);
      Atomics.wait(this.sig, i, v, 1000);
    }
  }

  /**
   * Hands the round's events to the detector stage in stream order, with the
   * clock's ticks in between: a tick at packet seq comes after the flows it
   * expired (key 2·seq) and before that packet's own events (2·seq + 1).
   */
  private merge(rs: FromWorker[], ticks: number[]): void {
    const main = this.main;
    const n = rs.length;
    const at = new Array<number>(n).fill(0);
    let t = 0;
    for (;;) {
      let best = -1, k0 = Infinity, k1 = 0, k2 = 0;
      for (let i = 0; i < n; i++) {
        const r = rs[i]!, j = at[i]!;
        if (j >= r.items.length) continue;
        const a = r.keys[3 * j]!, b = r.keys[3 * j + 1]!, c = r.keys[3 * j + 2]!;
        if (best < 0 || a < k0 || (a === k0 && (b < k1 || (b === k1 && c < k2)))) { best = i; k0 = a; k1 = b; k2 = c; }
      }
      // a tick goes before everything of its packet except the expiries it caused
      if (t < ticks.length && (best < 0 || 2 * ticks[t]! < k0)) { main.advance(ticks[t + 1]!); t += 2; continue; }
      if (best < 0) break;
      const r = rs[best]!, j = at[best]!;
      at[best] = j + 1;
      if (r.tags[j] === 0) main.event(r.items[j] as NetEvent);
      else main.noteFlow(r.items[j] as FlowRef);
    }
  }

  /** The stage counters of one run: clock from here, decode and flows from the workers, detectors from main. */
  private combine(st: PipelineStats, ws: PipelineStats[]): PipelineStats {
    Object.assign(st, this.clock);
    for (const w of ws) {
      st.ipPackets += w.ipPackets;
      st.fragments += w.fragments;
      st.nonIp += w.nonIp;
      for (const [k, v] of Object.entries(w.decodeErrors)) st.decodeErrors[k] = (st.decodeErrors[k] ?? 0) + v;
      for (const [k, v] of Object.entries(w.transactions)) st.transactions[k] = (st.transactions[k] ?? 0) + v;
      for (const [k, v] of Object.entries(w.linktypes)) st.linktypes[k] = (st.linktypes[k] ?? 0) + v;
      st.flows.active += w.flows.active;
      st.flows.created += w.flows.created;
      st.flows.evicted += w.flows.evicted;
    }
    // the flow tables are the workers' (each maxFlows / N): one entry for all of them
    const table = st.caps.find((c) => c.key === 'flows.maxFlows');
    if (table) {
      table.cap = ws.reduce((n, w) => n + (w.caps.find((c) => c.key === 'flows.maxFlows')?.cap ?? 0), 0);
      table.entries = st.flows.active;
      table.evicted = st.flows.evicted;
    }
    st.workers = this.slots.map((s, i) => ({ packets: s.packets, events: sum(ws[i]!.events) }));
    return st;
  }
}

function sum(r: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(r)) n += v;
  return n;
}
