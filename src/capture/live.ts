/**
 * Live capture through tapwatch's own libpcap addon (`tapwatch-pcap`, src/capture/native).
 *
 * The addon runs pcap_dispatch() on a dedicated thread and hands JS whole batches of
 * packets (1 MiB by default), each record being
 *
 *     u32 tsSec | u32 tsNsec | u32 caplen | u32 wirelen | caplen bytes | pad to 4
 *
 * in host byte order. This module walks a batch and calls `sink.packet()` once per
 * record, with a view into the batch buffer (no object per packet). The buffer goes back
 * to the addon's pool as soon as the walk returns, so sinks must copy what they keep
 * (the PacketSink contract).
 *
 * Drops are never silent: `dropped`/`ifdropped` are libpcap's ps_drop/ps_ifdrop (kernel
 * ring full / interface), `queueDropped` counts packets the capture thread had to throw
 * away because JS was not taking batches fast enough (bounded hand-off queue).
 *
 * The addon is loaded lazily: importing this module never fails, so offline analysis works
 * on machines where the addon was not built (no libpcap-dev, no compiler).
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { PacketSink, TsDigits } from './types.js';

export interface LiveOptions {
  /** Interface name as libpcap knows it (`lo`, `eth0`, `any`, ...). */
  iface: string;
  /** BPF filter expression (pcap-filter(7)); compiled and set in the kernel. */
  filter?: string;
  /** Snap length in bytes (default 262144, libpcap's maximum). */
  snaplen?: number;
  /** Promiscuous mode (default true, as tcpdump). */
  promisc?: boolean;
  /** Kernel ring size in bytes (default 64 MiB). */
  bufferSize?: number;
  /** libpcap read timeout in ms: how long a partly filled kernel block may wait (default 100). */
  timeoutMs?: number;
  /** pcap_set_immediate_mode: wake per packet. Lower latency, far more wakeups; off by default. */
  immediate?: boolean;
  /** Size of one hand-off batch in bytes (default 1 MiB; raised to hold one snaplen packet). */
  batchBytes?: number;
  /** Batches that may wait for JS before the capture thread starts dropping (default 64). */
  queueBatches?: number;
  /** A partly filled batch is handed over after this many ms (default 50). */
  flushMs?: number;
  /** Reopen the interface, with backoff, when the capture is lost because it went away (default true). */
  reopen?: boolean;
  /** First reopen delay in ms (default 250), doubled up to reopenMaxMs (default 5000). */
  reopenInitialMs?: number;
  reopenMaxMs?: number;
}

export interface LiveStats {
  /** ps_recv: packets that passed the filter in the kernel, including dropped ones. On `lo` every packet is seen twice (outgoing + incoming copy). */
  received: number;
  /** ps_drop: packets the kernel dropped because the capture ring was full. */
  dropped: number;
  /** ps_ifdrop: packets dropped by the interface/driver (Linux: rx_dropped delta). */
  ifdropped: number;
  /** Packets the capture thread dropped because JS fell behind (bounded queue full). */
  queueDropped: number;
  /** Packets handed to `sink.packet()`. */
  packetsDelivered: number;
  /** Batches handed to JS. */
  batches?: number;
  /** Times the capture was lost (interface deleted, or a libpcap that ends the capture when it goes down) and reopening began. */
  interruptions: number;
  /** Successful reopens after an interruption. */
  reopens: number;
  /** Times the interface was seen going down (operstate down / lowerlayerdown / absent), sampled once a second. */
  linkDowns: number;
  /** 1 while no packets can arrive: the interface is down or the capture is being reopened. */
  down: number;
}

/**
 * What happened to the capture, for the daemon's log (never per packet):
 * link-down/link-up come from the interface's operstate, sampled every
 * second on a wall-clock timer (packet time does not move while nothing
 * arrives); interrupted/reopen-failed/resumed from the handle itself.
 */
export type CaptureStatus =
  | { event: 'link-down'; operstate: string }
  | { event: 'link-up'; operstate: string; downMs: number }
  | { event: 'interrupted'; error: string }
  | { event: 'reopen-failed'; error: string; code: string; attempt: number; retryInMs: number }
  | { event: 'resumed'; attempts: number; downMs: number };

export interface LiveCapture {
  /** LINKTYPE_* of the interface (lo and Ethernet = 1, `any` = 113 (SLL) or 276 (SLL2)). */
  readonly linktype: number;
  /** 9 when the kernel gives nanosecond timestamps (Linux), else 6 (µs scaled to ns). */
  readonly tsDigits: TsDigits;
  /**
   * Start the capture thread and feed `sink`. `onError` receives a capture failure that
   * cannot be recovered and exceptions thrown by the sink; without it they are rethrown
   * (uncaught), so they are never silent. Losing the interface (deleted, or taken down under
   * a libpcap that ends the capture then) is not such a failure: the handle is reopened with
   * backoff (`reopen`, default on) and `onStatus` says so; see CaptureStatus.
   */
  start(sink: PacketSink, onError?: (err: CaptureError) => void, onStatus?: (s: CaptureStatus) => void): void;
  /** Counters; the kernel ones are refreshed by the capture thread every ~50 ms and are final after close(). */
  stats(): LiveStats;
  /** Stop the thread (pcap_breakloop + join), deliver what was already captured, close the handle. */
  close(): Promise<void>;
}

export class CaptureError extends Error {
  /** ENOADDON, ENODEV, EPERM, EFILTER, ENETDOWN, EINVAL, ECAPTURE, ESINK */
  readonly code: string;
  constructor(message: string, code = 'ECAPTURE', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaptureError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------
// The addon's shape (src/capture/native/tapwatch_pcap.cc)

interface NativeOptions {
  iface: string;
  filter?: string;
  snaplen?: number;
  promisc: boolean;
  bufferSize?: number;
  timeoutMs?: number;
  immediate: boolean;
  batchBytes?: number;
  queueBatches?: number;
  flushMs?: number;
}

interface NativeStats {
  received: number;
  dropped: number;
  ifdropped: number;
  queueDropped: number;
  batches: number;
  captured: number;
  delivered: number;
  running: boolean;
}

interface NativeCapture {
  readonly linktype: number;
  readonly tsDigits: number;
  readonly snaplen: number;
  readonly batchBytes: number;
  readonly warnings: string[];
  start(onBatch: (buf: Buffer, used: number, packets: number) => void, onEnd: (err: string | null) => void): void;
  stats(): NativeStats;
  close(): void;
}

interface NativeDev {
  name: string;
  description: string | null;
  loopback: boolean;
  up?: boolean;
  running?: boolean;
}

interface NativeModule {
  Capture: new (opts: NativeOptions) => NativeCapture;
  findAllDevs(): NativeDev[];
  libVersion(): string;
}

type LoadResult = { ok: true; mod: NativeModule } | { ok: false; reason: string; cause: unknown };

let loaded: LoadResult | undefined;

// npm drops an optional dependency whose build failed (node_modules/tapwatch-pcap is removed),
// so after installing the headers `npm install` is what brings it back; `npm rebuild
// tapwatch-pcap` only helps while the link still exists.
const ADDON_MISSING =
  'live capture needs the tapwatch-pcap addon, which was not built: install libpcap-dev ' +
  '(apt-get install libpcap-dev) and a C++ toolchain (build-essential, python3), then run `npm install` ' +
  '(or `npm rebuild tapwatch-pcap` if node_modules/tapwatch-pcap exists)';

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' | ').trim();
}

function isNativeModule(m: unknown): m is NativeModule {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return typeof r['Capture'] === 'function' && typeof r['findAllDevs'] === 'function';
}

function loadNative(): LoadResult {
  if (loaded !== undefined) return loaded;
  const req = createRequire(import.meta.url);
  // 1. the installed optional dependency (node_modules/tapwatch-pcap -> src/capture/native);
  // 2. the source folder next to this file (running from src/ with vitest or tsx);
  // 3. the source folder seen from dist/capture/ (after `npm run build`).
  const candidates = ['tapwatch-pcap', new URL('./native/', import.meta.url), new URL('../../src/capture/native/', import.meta.url)];
  let firstErr: unknown;
  let builtErr: unknown;
  for (const c of candidates) {
    const id = typeof c === 'string' ? c : fileURLToPath(c);
    try {
      const m: unknown = req(id);
      if (isNativeModule(m)) {
        loaded = { ok: true, mod: m };
        return loaded;
      }
      builtErr ??= new Error(`${id} does not export the expected API (stale build?)`);
    } catch (e) {
      firstErr ??= e;
      // Prefer the error of a package that exists but whose binary failed to load
      // (not built, missing libpcap.so, wrong architecture) over "cannot find module".
      const msg = e instanceof Error ? e.message : String(e);
      if (!(msg.includes(`Cannot find module '${id}'`) || msg.includes(`Cannot find module '${id.replace(/\/$/, '')}'`))) {
        builtErr ??= e;
      }
    }
  }
  const cause = builtErr ?? firstErr;
  // First line only: Node appends the require stack on the following lines.
  const detail = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0]?.trim() ?? '';
  loaded = { ok: false, reason: `${ADDON_MISSING} (load error: ${detail})`, cause };
  return loaded;
}

function requireNative(): NativeModule {
  const r = loadNative();
  if (!r.ok) throw new CaptureError(r.reason, 'ENOADDON', { cause: r.cause });
  return r.mod;
}

// ---------------------------------------------------------------------------------------

/** Linux: effective capability bits from /proc/self/status (undefined elsewhere). */
function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] !== undefined ? BigInt('0x' + m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const CAP_NET_RAW = 13n;

// Measured on Linux 6.x / libpcap 1.10.3: CAP_NET_RAW alone opens any interface, promiscuous
// included; CAP_NET_ADMIN is only needed for extras (hardware timestamps, monitor mode).
const PERM_HINT =
  'live capture needs root or CAP_NET_RAW (plus CAP_NET_ADMIN for hardware timestamps/monitor mode); ' +
  'systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN, or setcap cap_net_raw,cap_net_admin=eip on the node binary';

/**
 * Is live capture possible here? Checks that the addon loads and, on Linux, that the
 * process has CAP_NET_RAW (root has it). Does not open any interface.
 */
export function captureAvailable(): { ok: true } | { ok: false; reason: string } {
  const r = loadNative();
  if (!r.ok) return { ok: false, reason: r.reason };
  const caps = effectiveCaps();
  if (caps !== undefined && (caps & (1n << CAP_NET_RAW)) === 0n) {
    return { ok: false, reason: `no permission to capture: ${PERM_HINT}` };
  }
  return { ok: true };
}

/** Interface names libpcap can open (falls back to /sys/class/net or os.networkInterfaces without the addon). */
export function listInterfaces(): string[] {
  const r = loadNative();
  if (r.ok) {
    try {
      return r.mod.findAllDevs().map((d) => d.name);
    } catch {
      // fall through to the OS view
    }
  }
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return Object.keys(networkInterfaces());
  }
}

function errCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return '';
}

function translateOpenError(e: unknown, opts: LiveOptions): CaptureError {
  const code = errCode(e);
  const msg = oneLine(e instanceof Error ? e.message : String(e));
  const iface = opts.iface;
  const available = (): string => {
    const names = listInterfaces();
    return names.length > 0 ? names.join(', ') : '(none found)';
  };
  const known = (): boolean => {
    if (listInterfaces().includes(iface)) return true;
    try {
      return readdirSync('/sys/class/net').includes(iface);
    } catch {
      return false;
    }
  };
  if (code === 'ENODEV' || (code !== 'EFILTER' && !known())) {
    // Unprivileged activation fails with EPERM before the name is checked: look the name up first.
    return new CaptureError(`no such interface '${iface}'; available: ${available()}`, 'ENODEV', { cause: e });
  }
  if (code === 'EPERM') {
    return new CaptureError(`no permission to capture on '${iface}' (${msg}): ${PERM_HINT}`, 'EPERM', { cause: e });
  }
  if (code === 'EFILTER') return new CaptureError(msg, 'EFILTER', { cause: e });
  if (code === 'ENETDOWN') return new CaptureError(`interface '${iface}' is down (${msg})`, 'ENETDOWN', { cause: e });
  return new CaptureError(`cannot capture on '${iface}': ${msg}`, code || 'ECAPTURE', { cause: e });
}

function checkInt(name: string, v: number | undefined, min: number, max: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new CaptureError(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`, 'EINVAL');
  }
}

/** Open `opts.iface` for live capture. Throws CaptureError with a one-line message. */
export function openLive(opts: LiveOptions): LiveCapture {
  if (typeof opts.iface !== 'string' || opts.iface === '') {
    throw new CaptureError('openLive: iface must be a non-empty interface name', 'EINVAL');
  }
  checkInt('snaplen', opts.snaplen, 64, 262144);
  checkInt('bufferSize', opts.bufferSize, 0, 2 ** 30);
  checkInt('timeoutMs', opts.timeoutMs, 1, 60000);
  checkInt('batchBytes', opts.batchBytes, 4096, 64 * 2 ** 20);
  checkInt('queueBatches', opts.queueBatches, 1, 4096);
  checkInt('flushMs', opts.flushMs, 1, 60000);
  const mod = requireNative();
  const nopts: NativeOptions = {
    iface: opts.iface,
    promisc: opts.promisc ?? true,
    immediate: opts.immediate ?? false,
    bufferSize: opts.bufferSize ?? 64 * 2 ** 20,
    timeoutMs: opts.timeoutMs ?? 100,
  };
  if (opts.filter !== undefined) nopts.filter = opts.filter;
  if (opts.snaplen !== undefined) nopts.snaplen = opts.snaplen;
  if (opts.batchBytes !== undefined) nopts.batchBytes = opts.batchBytes;
  if (opts.queueBatches !== undefined) nopts.queueBatches = opts.queueBatches;
  if (opts.flushMs !== undefined) nopts.flushMs = opts.flushMs;
  let native: NativeCapture;
  try {
    native = new mod.Capture(nopts);
  } catch (e) {
    throw translateOpenError(e, opts);
  }
  return new Live(native, mod, nopts, opts);
}

/** libpcap's words for "the interface is gone or down" (Linux 1.10: disappeared; older: went down) */
const INTERFACE_LOST = /interface (disappeared|went down)|no such device|ENETDOWN|ENODEV|ENXIO|network is down/i;

const LINK_DOWN_STATES = new Set(['down', 'lowerlayerdown', 'notpresent', 'absent']);

/** /sys/class/net/IF/operstate ('absent' when the interface does not exist; null where sysfs has no such view) */
function operstate(iface: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${iface}/operstate`, 'utf8').trim();
  } catch (e) {
    return errCode(e) === 'ENOENT' ? 'absent' : null;
  }
}

/** /sys/class/net/IF/ifindex: a deleted and recreated interface has a new one (null when absent or unknown) */
function ifindex(iface: string): number | null {
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
  } catch {
    return null;
  }
}

type Counters = { received: number; dropped: number; ifdropped: number; queueDropped: number; batches: number };

class Live implements LiveCapture {
  linktype: number;
  tsDigits: TsDigits;
  #native: NativeCapture | null;
  #mod: NativeModule;
  #nopts: NativeOptions;
  #iface: string;
  #reopen: boolean;
  #reopenInitialMs: number;
  #reopenMaxMs: number;
  #delivered = 0;
  #started = false;
  #closing: Promise<void> | undefined;
  #ended: Promise<void> | undefined;
  #views = new Map<ArrayBufferLike, Uint32Array>();
  /** kernel/queue counters of handles already closed (a reopened handle starts at zero) */
  #base: Counters = { received: 0, dropped: 0, ifdropped: 0, queueDropped: 0, batches: 0 };
  #interruptions = 0;
  #reopens = 0;
  #linkDowns = 0;
  #linkDown = false;
  #linkDownSince = 0;
  #lostSince = 0;
  #attempts = 0;
  #delay = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #linkTimer: NodeJS.Timeout | undefined;
  /** ifindex of the interface the current handle is bound to (null: unknown, e.g. `any`) */
  #ifindex: number | null = null;
  #sink: PacketSink | undefined;
  #report: (err: CaptureError) => void = (err) => { throw err; };
  #status: (s: CaptureStatus) => void = () => {};

  constructor(native: NativeCapture, mod: NativeModule, nopts: NativeOptions, opts: LiveOptions) {
    this.#native = native;
    this.#mod = mod;
    this.#nopts = nopts;
    this.#iface = opts.iface;
    this.#reopen = opts.reopen ?? true;
    this.#reopenInitialMs = opts.reopenInitialMs ?? 250;
    this.#reopenMaxMs = opts.reopenMaxMs ?? 5000;
    this.#delay = this.#reopenInitialMs;
    this.linktype = native.linktype;
    this.tsDigits = native.tsDigits === 9 ? 9 : 6;
  }

  start(sink: PacketSink, onError?: (err: CaptureError) => void, onStatus?: (s: CaptureStatus) => void): void {
    if (this.#started) throw new CaptureError('capture already started', 'EINVAL');
    if (this.#closing !== undefined) throw new CaptureError('capture is closed', 'EINVAL');
    this.#started = true;
    this.#sink = sink;
    if (onError) this.#report = onError;
    if (onStatus) this.#status = onStatus;
    this.#attach(this.#native!);
    this.#watchLink();
  }

  /** feed `sink` from this handle; its end (error or close) comes back to #ended */
  #attach(native: NativeCapture): void {
    const sink = this.#sink!;
    const linktype = native.linktype;
    const digits: TsDigits = native.tsDigits === 9 ? 9 : 6;
    this.#ifindex = this.#iface === 'any' ? null : ifindex(this.#iface);
    const onBatch = (buf: Buffer, used: number, _packets: number): void => {
      let u32 = this.#views.get(buf.buffer);
      if (u32 === undefined) {
        u32 = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
        this.#views.set(buf.buffer, u32);
      }
      let off = 0;
      try {
        while (off < used) {
          const i = off >>> 2;
          const caplen = u32[i + 2] as number;
          sink.packet(linktype, u32[i] as number, u32[i + 1] as number, buf, off + 16, caplen, u32[i + 3] as number, digits);
          this.#delivered++;
          off += 16 + ((caplen + 3) & ~3);
        }
      } catch (e) {
        // The rest of this batch is skipped; it stays visible as captured - delivered.
        const m = e instanceof Error ? e.message : String(e);
        this.#report(new CaptureError(`packet sink threw on ${this.#iface}: ${oneLine(m)}`, 'ESINK', { cause: e }));
      }
    };
    this.#ended = new Promise<void>((resolve) => {
      native.start(onBatch, (err) => {
        this.#views.clear();
        resolve();
        if (err === null || this.#native !== native) return; // closed, or already given up as stale
        if (this.#closing === undefined && this.#reopen && INTERFACE_LOST.test(err)) this.#lost(native, oneLine(err));
        else this.#report(new CaptureError(oneLine(err), 'ECAPTURE'));
      });
    });
  }

  /**
   * the handle ended because the interface went away (or is bound to one that no longer
   * exists): keep its counters, reopen with backoff
   */
  #lost(native: NativeCapture, error: string): void {
    this.#native = null;
    // the thread has ended (or is stopped and joined here); this releases the pcap handle
    native.close();
    this.#fold(native);
    this.#interruptions++;
    this.#lostSince = Date.now();
    this.#attempts = 0;
    this.#delay = this.#reopenInitialMs;
    this.#status({ event: 'interrupted', error });
    this.#scheduleReopen();
  }

  #fold(native: NativeCapture): void {
    const s = native.stats();
    this.#base.received += s.received;
    this.#base.dropped += s.dropped;
    this.#base.ifdropped += s.ifdropped;
    this.#base.queueDropped += s.queueDropped;
    this.#base.batches += s.batches;
  }

  // Wall-clock timers: reopening is about the machine, not about packet time.
  #scheduleReopen(): void {
    const wait = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#reopenMaxMs);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closing !== undefined) return;
      this.#attempts++;
      let native: NativeCapture;
      try {
        native = new this.#mod.Capture(this.#nopts);
      } catch (e) {
        this.#status({ event: 'reopen-failed', error: oneLine(e instanceof Error ? e.message : String(e)), code: errCode(e) || 'ECAPTURE', attempt: this.#attempts, retryInMs: this.#delay });
        this.#scheduleReopen();
        return;
      }
      this.#native = native;
      this.linktype = native.linktype;
      this.tsDigits = native.tsDigits === 9 ? 9 : 6;
      this.#reopens++;
      this.#attach(native);
      const downMs = Date.now() - this.#lostSince;
      this.#lostSince = 0;
      // the capture's own message covers the link: no separate link-up line for it
      if (this.#linkDown && !LINK_DOWN_STATES.has(operstate(this.#iface) ?? 'up')) this.#linkDown = false;
      this.#status({ event: 'resumed', attempts: this.#attempts, downMs });
    }, wait);
    this.#retryTimer.unref();
  }

  /** sample operstate once a second; transitions only (a down interface is one line, not one per second) */
  #watchLink(): void {
    if (this.#iface === 'any' || operstate(this.#iface) === null) return;
    this.#linkTimer = setInterval(() => {
      const st = operstate(this.#iface);
      if (st === null) return;
      // Deleted while down, libpcap says nothing, and the socket stays bound to the old
      // ifindex: a recreated interface of the same name would never be captured. Reopen.
      const idx = ifindex(this.#iface);
      const native = this.#native;
      if (native && this.#ifindex !== null && idx !== this.#ifindex && this.#reopen) {
        this.#lost(native, `interface ${this.#iface} ${idx === null ? 'disappeared' : 'was replaced'} (ifindex ${this.#ifindex} -> ${idx ?? 'none'})`);
      }
      const down = LINK_DOWN_STATES.has(st);
      if (down && !this.#linkDown) {
        this.#linkDown = true;
        this.#linkDownSince = Date.now();
        this.#linkDowns++;
        // a lost capture already said the interface is gone
        if (this.#lostSince === 0) this.#status({ event: 'link-down', operstate: st });
      } else if (!down && this.#linkDown) {
        this.#linkDown = false;
        if (this.#lostSince === 0) this.#status({ event: 'link-up', operstate: st, downMs: Date.now() - this.#linkDownSince });
      }
    }, 1000);
    this.#linkTimer.unref();
  }

  stats(): LiveStats {
    const s = this.#native?.stats();
    const b = this.#base;
    return {
      received: b.received + (s?.received ?? 0),
      dropped: b.dropped + (s?.dropped ?? 0),
      ifdropped: b.ifdropped + (s?.ifdropped ?? 0),
      queueDropped: b.queueDropped + (s?.queueDropped ?? 0),
      packetsDelivered: this.#delivered,
      batches: b.batches + (s?.batches ?? 0),
      interruptions: this.#interruptions,
      reopens: this.#reopens,
      linkDowns: this.#linkDowns,
      down: this.#linkDown || this.#native === null ? 1 : 0,
    };
  }

  close(): Promise<void> {
    if (this.#closing === undefined) {
      if (this.#retryTimer) clearTimeout(this.#retryTimer);
      if (this.#linkTimer) clearInterval(this.#linkTimer);
      this.#retryTimer = this.#linkTimer = undefined;
      if (this.#native) {
        this.#native.close();
        this.#closing = this.#ended ?? Promise.resolve();
      } else {
        this.#closing = Promise.resolve(); // between handles: nothing open
      }
    }
    return this.#closing;
  }
}
