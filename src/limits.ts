/**
 * The memory budget: one number, `limits.memoryMiB` (default 512), bounds the
 * whole process under any flood, not only each table.
 *
 * Where the memory of a flood went (2 M spoofed SYNs, before this budget):
 * 2.3 GiB of RSS for ≈ 0.6 GiB of live state — most of it was V8 letting the
 * old generation grow ~4× past what was live before collecting (its default
 * growth on a machine with many GiB), the rest was 1 M flow slots at
 * ≈ 1.1 KiB each. So the budget bounds both:
 *
 *  - heap growth: V8 is told to grow the old generation by at most
 *    HEAP_GROWING_PERCENT past the live size before the next full collection
 *    (`--heap-growing-percent`, set at start by applyHeapGrowth: unlike
 *    --max-old-space-size it can be set from inside the process, and it
 *    cannot turn a burst into an out-of-memory abort);
 *  - live state: the flow table and every detector table have caps, and the
 *    caps left at their defaults are scaled with the budget (scaleCaps):
 *    the defaults are sized for 512 MiB, so `limits.memoryMiB: 2048` gives
 *    every table ≈ 4.6× more room, 256 MiB ≈ 0.33×.
 *
 * Costs (Node 20, 64-bit, no pointer compression):
 *   flow table          measured by heap snapshot under floods: Flow record
 *                       ≈ 390 B, uid + Community ID + address strings ≈ 130 B,
 *                       boxed doubles ≈ 60 B, a DNS flow's pending-query record
 *                       ≈ 40 B: ≈ 0.6–0.75 KiB live; with the GC's headroom
 *                       (HEAP_GROWING_PERCENT, fragmentation) FLOW_ENTRY_BYTES
 *                       of RSS a flow (1 KiB left a 1 M-source DNS query flood
 *                       at 548 MiB)
 *   detector tables     not measured one by one: an LruMap node, a record and
 *                       a key string, roughly 150–600 B an entry by their
 *                       layouts, a distinct counter up to 1 KiB more (dns_tunnel,
 *                       http_scan); admission filters 16 B per entry of cap,
 *                       preallocated (part of BASE_MIB). Their default caps are
 *                       the ones that kept every flood measured (README) within
 *                       the default budget with the flow table at its share.
 * Comparable defaults: Suricata bounds flows by `flow.memcap` (32 MiB by
 * default, ≈ 100 k flows of its own 300-byte records) and goes into emergency
 * mode (shorter timeouts, then evicting) when it is reached; Zeek has no cap
 * at all (its connection table grows until the process is killed). Here the
 * table evicts its least recently active flow (the summary says how many) —
 * Suricata's emergency eviction without the timeout change.
 */

import { setFlagsFromString } from 'node:v8';

/** the default whole-process budget, MiB */
export const DEFAULT_MEMORY_MIB = 512;
/**
 * RSS of `analyze` before any flood state (Node, the modules, every
 * detector's preallocated admission filters and rings, read buffers):
 * measured 124 MiB on a small capture.
 */
export const BASE_MIB = 128;
/** whole-process RSS per flow-table entry under a spoofed-source flood, GC headroom included (measured: see README) */
export const FLOW_ENTRY_BYTES = 1536;
/** share of the budget above BASE_MIB that the flow table may take; the detectors' default caps fit in the rest */
export const FLOW_SHARE = 0.5;
/** old-generation growth allowed past the live size before the next full GC (V8's default on big machines lets it reach 4×) */
export const HEAP_GROWING_PERCENT = 20;

/** The flow-table cap for a budget: FLOW_SHARE of what is above BASE_MIB, at FLOW_ENTRY_BYTES a flow. */
export function flowsForBudget(memoryMiB: number): number {
  const room = Math.max(16, memoryMiB - BASE_MIB) * 1048576 * FLOW_SHARE;
  return Math.max(10_000, Math.floor(room / FLOW_ENTRY_BYTES / 1000) * 1000);
}

/** The factor applied to caps left at their default: 1 at DEFAULT_MEMORY_MIB. */
export function capScale(memoryMiB: number): number {
  return Math.max(16, memoryMiB - BASE_MIB) / (DEFAULT_MEMORY_MIB - BASE_MIB);
}

/**
 * Tells V8 to keep the old generation close to its live size (see above).
 * Called at start by the CLI, before any packet is read.
 */
export function applyHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
