/**
 * `tapwatch run`: the sensor daemon. Live capture through libpcap feeds the
 * same Pipeline as `analyze`; alerts go to every configured sink.
 *
 *   SIGHUP           re-read the configuration: thresholds, outputs, lists;
 *                    detector state is kept (detectors that cannot take new
 *                    settings in place are rebuilt, and the log says so);
 *                    files are reopened (logrotate)
 *   SIGTERM, SIGINT  stop capture, deliver what was captured, flush windows
 *                    and sinks, print the summary, exit 0
 *
 * Packet time stays the clock. When traffic stops, the clock is carried
 * forward by the wall time elapsed since the last packet (after
 * `daemon.idleAdvance` seconds), so flows still expire and an attack that
 * ended is still reported promptly.
 */
import { parseSeed } from '../flows/uid.js';
import { hostname } from 'node:os';
import pino from 'pino';
import cron from 'node-cron';
import { Pipeline } from '../pipeline.js';
import { openLive, CaptureError, type LiveCapture, type CaptureStatus } from '../capture/live.js';
import { buildDetectors } from '../detect/index.js';
import { CidrSet } from '../util/cidr.js';
import { buildSinks } from '../sinks/from-config.js';
import { MonotonicSink, rateLimitedLogger } from '../sinks/monotonic.js';
import type { FormatContext } from '../alerts/format/index.js';
import type { Config } from '../config.js';
import type { Alert } from '../alerts/types.js';
import { ConfigError } from '../config.js';
import { pcapOptions } from '../alerts/pcap-log.js';
import { formatSummary } from './summary.js';
import { ShutdownGate } from '../capture/shutdown-gate.js';
import { buildRegistry, serveMetrics } from '../metrics/prometheus.js';
import { dropPrivileges } from './privdrop.js';
import type { Server } from 'node:http';
import { RedisSink } from '../sinks/redis.js';
import { eventToJson } from '../events/serialize.js';

export interface RunOptions {
  /** builds the effective configuration (file + environment + flags); called again on SIGHUP */
  loadConfig: () => Config;
  version: string;
}

export async function run(o: RunOptions): Promise<number> {
  let cfg = o.loadConfig();
  if (!cfg.capture.interface) throw new ConfigError('capture.interface: no interface given (use --interface IF or set it in the config)');
  const log = pino({ name: 'tapwatch', level: cfg.daemon.logLevel, base: { pid: process.pid } }, pino.destination(2));
  // repeated sink errors (a full spool disk fails every append) are one line per 10 s with a count
  const sinkLog = rateLimitedLogger((level, msg, obj) => log[level](obj ?? {}, msg));
  const ctx: FormatContext = { hostname: hostname(), sensor: cfg.capture.interface, version: o.version };

  let sinks: MonotonicSink[] = buildSinks(cfg, ctx, sinkLog).map((s) => new MonotonicSink(s));
  /** outputs removed by a reload: their counters stay in the stats and the summary */
  const removed: MonotonicSink[] = [];
  // live capture has one analysis thread in this version: say so rather than ignore the setting
  if (cfg.flows.workers !== 1) log.warn({ workers: cfg.flows.workers }, 'flows.workers applies to analyze only: run analyses live traffic on one thread (see README "Worker threads")');
  if (sinks.length === 0) log.warn('no outputs configured: alerts are only counted (use --output, --syslog or --stdout)');
  const homeNet = (c: Config) => CidrSet.parse(c.network.homeNet, 'network.homeNet');
  // pcap on alert: next to the alert file, else the service's state directory, else the working directory
  const pcap = pcapOptions(cfg.alerts.pcap, cfg.outputs.file.path !== '' ? cfg.outputs.file.path : process.env.STATE_DIRECTORY ? `${process.env.STATE_DIRECTORY.split(':')[0]}/alerts` : null);
  if (pcap) log.info({ dir: pcap.dir, ringBytes: pcap.ringBytes }, 'pcap on alert: keeping recent packets per flow');
  const pipeline = new Pipeline({
    ...(pcap ? { pcap: { ...pcap, onError: (m: string) => sinkLog('error', m) } } : {}),
    detectors: buildDetectors(cfg.detectors, { homeNet: homeNet(cfg) }),
    tracker: { timeouts: cfg.flows.timeouts, maxFlows: cfg.flows.maxFlows, progress: cfg.flows.progress, homeNet: cfg.network.homeNet, dnsPending: cfg.flows.dnsPending },
    suppression: { interval: cfg.alerts.suppression, perKind: cfg.alerts.perKind },
    updateEvery: cfg.alerts.updateEvery,
    ...(cfg.flows.uidSeed !== '' ? { uidSeed: parseSeed(cfg.flows.uidSeed) } : {}),
    defaultDigits: 9,
    fold: cfg.alerts.fold,
    onAlert: (a) => { for (const s of sinks) s.write(a); },
    // events leave the process only when an output asks for them (no per-event cost otherwise)
    ...(cfg.outputs.redis.url && cfg.outputs.redis.events ? {
      onEvent: (e) => {
        let line: string | null = null;
        for (const s of sinks) if (s instanceof RedisSink && s.events) s.writeEvent(e.type, line ??= eventToJson(e));
      },
    } : {}),
    // incident records go to the same sinks, as their own kind
    ...(cfg.alerts.incidents.enabled ? { incidents: cfg.alerts.incidents, onIncident: (r: Alert) => { for (const s of sinks) s.write(r); } } : {}),
  });

  let live: LiveCapture;
  try {
    live = openLive({
      iface: cfg.capture.interface, snaplen: cfg.capture.snaplen, promisc: cfg.capture.promisc,
      bufferSize: cfg.capture.bufferSize, ...(cfg.capture.filter ? { filter: cfg.capture.filter } : {}),
    });
  } catch (e) {
    await Promise.all(sinks.map((s) => s.close()));
    throw e;
  }
  const started = Date.now();
  let captureError: CaptureError | null = null;
  let stopping: Promise<number> | null = null;

  // Shutdown must finish within systemd's stop timeout even with a backlog of
  // captured packets (a flood can leave seconds of work queued): past the
  // deadline the rest is counted as "not analysed at shutdown", never silently.
  const gate = new ShutdownGate(pipeline);
  let metrics: Server | null = null;
  if (cfg.daemon.metrics) {
    const reg = buildRegistry({
      stats: () => pipeline.snapshot(), detectors: () => pipeline.detectors, sinks: () => sinks,
      capture: () => live.stats(), notAnalysed: () => gate.skipped, packetTime: () => pipeline.now,
    });
    try {
      metrics = await serveMetrics(reg, cfg.daemon.metrics);
    } catch (e) {
      await live.close();
      await Promise.all(sinks.map((s) => s.close()));
      throw new ConfigError(`daemon.metrics: cannot listen on ${cfg.daemon.metrics} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  // Root is given up only now: the capture handle, the outputs and the metrics socket are open.
  if (cfg.daemon.user) {
    try {
      const d = dropPrivileges(cfg.daemon.user);
      log.info({ user: d.user, uid: d.uid, gid: d.gid }, 'privileges dropped');
    } catch (e) {
      await live.close();
      if (metrics) metrics.close();
      await Promise.all(sinks.map((s) => s.close()));
      throw e;
    }
  }
  const iface = cfg.capture.interface;
  live.start(gate, (err) => {
    captureError = err;
    log.error({ err: err.message, code: err.code }, 'capture failed');
    void stop('capture error');
  }, (st: CaptureStatus) => {
    // one line per transition; the counts are in the stats line (capture.linkDowns, interruptions, reopens)
    switch (st.event) {
      case 'link-down': log.warn({ interface: iface, operstate: st.operstate }, 'capture interface is down: no packets until it is up again'); break;
      case 'link-up': log.info({ interface: iface, operstate: st.operstate, down_s: Math.round(st.downMs / 100) / 10 }, 'capture interface is up again'); break;
      case 'interrupted': log.warn({ interface: iface, err: st.error }, 'capture lost: reopening the interface with backoff'); break;
      case 'reopen-failed':
        // the first failure and then every 10th: a long outage is a few lines, not one per attempt
        if (st.attempt === 1 || st.attempt % 10 === 0) log.warn({ interface: iface, err: st.error, code: st.code, attempt: st.attempt, retry_in_ms: st.retryInMs }, 'capture: cannot reopen the interface yet');
        break;
      case 'resumed': log.info({ interface: iface, attempts: st.attempts, down_s: Math.round(st.downMs / 100) / 10 }, 'capture resumed'); break;
    }
  });
  log.info({ interface: cfg.capture.interface, linktype: live.linktype, filter: cfg.capture.filter || null, outputs: sinks.map((s) => s.name), metrics: cfg.daemon.metrics || null }, 'capture started');

  // Idle clock: carry packet time forward while no packets arrive.
  let lastPackets = -1;
  let lastChangeWall = Date.now();
  let lastChangeTs = 0;
  const idle = setInterval(() => {
    const n = pipeline.stats.packets;
    const wall = Date.now();
    if (n !== lastPackets) { lastPackets = n; lastChangeWall = wall; lastChangeTs = pipeline.now; return; }
    const idleS = (wall - lastChangeWall) / 1000;
    if (lastChangeTs > 0 && idleS >= cfg.daemon.idleAdvance) pipeline.advance(lastChangeTs + idleS - 0.5);
  }, 1000);

  const statsLine = (): Record<string, unknown> => {
    const st = pipeline.snapshot();
    const cap = live.stats();
    const detectors: Record<string, Record<string, number>> = {};
    for (const d of pipeline.detectors) detectors[d.name] = d.stats();
    const sinkStats: Record<string, Record<string, number>> = {};
    for (const s of removed) sinkStats[s.name] = s.counters();
    for (const s of sinks) sinkStats[s.name] = s.stats();
    return {
      capture: { ...cap, notAnalysedAtShutdown: gate.skipped }, packets: st.packets, bytes: st.bytes, events: st.events, alerts: st.alerts, alerts_out: st.alertsOut,
      suppressed: st.suppressed, flows: st.flows, caps: st.caps.filter((c) => c.evicted > 0), decode_errors: st.decodeErrors, transactions: st.transactions, detectors, sinks: sinkStats,
      ...(st.pcap ? { pcap: st.pcap } : {}),
      memory_mb: Math.round(process.memoryUsage().rss / 1048576), uptime_s: Math.round((Date.now() - started) / 1000),
    };
  };
  // node-cron's own warnings (a stats slot missed because analysis kept the event loop busy) go to our log.
  const cronLog = {
    info: (m: string) => log.info({ source: 'node-cron' }, m), warn: (m: string) => log.warn({ source: 'node-cron' }, m),
    error: (m: string, e?: unknown) => log.error({ source: 'node-cron', err: String(e ?? '') }, m), debug: (m: string) => log.debug({ source: 'node-cron' }, m),
  };
  const statsTask = cron.schedule(cfg.daemon.statsSchedule, () => log.info(statsLine(), 'stats'), { logger: cronLog, noOverlap: true });

  const reload = async (): Promise<void> => {
    let next: Config;
    let fresh: ReturnType<typeof buildDetectors>;
    try {
      next = o.loadConfig();
      // HOME_NET and detector settings are checked here, before anything is swapped
      fresh = buildDetectors(next.detectors, { homeNet: homeNet(next) });
    } catch (e) {
      log.error({ err: (e as Error).message }, 'reload failed: configuration rejected, keeping the running one');
      return;
    }
    if (next.capture.interface !== cfg.capture.interface || next.capture.filter !== cfg.capture.filter) {
      log.warn('capture settings changed: they take effect on restart (the capture is never interrupted by a reload)');
    }
    if (next.daemon.metrics !== cfg.daemon.metrics) log.warn('daemon.metrics changed: the endpoint moves on restart');
    if (JSON.stringify(next.alerts.pcap) !== JSON.stringify(cfg.alerts.pcap)) log.warn('alerts.pcap changed: pcap on alert is set up at start; the change takes effect on restart');
    let newSinks: MonotonicSink[];
    const prev = new Map(sinks.map((s) => [s.name, s]));
    try {
      newSinks = buildSinks(next, ctx, sinkLog).map((s) => new MonotonicSink(s, prev.get(s.name)));
    } catch (e) {
      log.error({ err: (e as Error).message }, 'reload failed: outputs rejected, keeping the running ones');
      return;
    }
    // Swap outputs: the old ones flush and close (files reopened by being opened anew).
    const old = sinks;
    sinks = newSinks;
    await Promise.all(old.map(async (s) => { try { await s.close(); } catch (e) { log.error({ sink: s.name, err: (e as Error).message }, 'closing output failed'); } }));
    // counters stay monotonic: the new outputs carry the old ones' final counts
    const now = new Map(sinks.map((s) => [s.name, s]));
    for (const s of old) {
      const n = now.get(s.name);
      if (n) n.settle(s);
      else if (!removed.includes(s)) removed.push(s);
    }
    // Detectors: keep state where settings are unchanged or can be applied in place.
    const rebuilt: string[] = [];
    const kept: string[] = [];
    const list = pipeline.detectors;
    const byName = new Map(list.map((d, i) => [d.name, i]));
    const nextList = fresh.map((nd) => {
      const i = byName.get(nd.name);
      if (i === undefined) { rebuilt.push(nd.name); return nd; }
      const cur = list[i]!;
      const before = JSON.stringify(cfg.detectors[nd.name]);
      const after = JSON.stringify(next.detectors[nd.name]);
      if (before === after) { cur.reload?.(); kept.push(cur.name); return cur; }
      const { enabled: _e, ...settings } = next.detectors[nd.name]!;
      if (cur.reconfigure?.(settings)) { cur.reload?.(); kept.push(cur.name); return cur; }
      rebuilt.push(nd.name);
      return nd;
    });
    pipeline.setDetectors(nextList);
    // conn summaries written from now on say local_orig/local_resp by the new HOME_NET
    pipeline.tracker.setHomeNet(next.network.homeNet);
    cfg = next;
    log.info({ outputs: sinks.map((s) => s.name), detectors_kept: kept, detectors_rebuilt: rebuilt }, 'configuration reloaded');
  };

  const stop = (why: string): Promise<number> => {
    if (stopping) return stopping;
    stopping = (async () => {
      log.info({ reason: why }, 'stopping');
      clearInterval(idle);
      await statsTask.stop();
      gate.deadline = Date.now() + cfg.daemon.stopDrainSeconds * 1000;
      await live.close();
      const st = pipeline.finish();
      const deadline = new Promise<void>((r) => setTimeout(r, 3000).unref());
      await Promise.race([Promise.all(sinks.map((s) => s.flush().catch(() => {}))), deadline]);
      await Promise.race([Promise.all(sinks.map((s) => s.close().catch(() => {}))), deadline]);
      sinkLog.flush();
      // after flush and close, so the sink counters say what was finally delivered, spooled or dropped
      log.info(statsLine(), 'summary');
      if (metrics) await new Promise<void>((r) => { metrics!.close(() => r()); metrics!.closeAllConnections(); });
      const cap = live.stats();
      process.stderr.write(
        formatSummary(st, [{ path: `interface ${cfg.capture.interface}`, packets: st.packets }], (Date.now() - started) / 1000) +
          `\ncapture: received ${cap.received}, dropped by kernel ${cap.dropped}, by interface ${cap.ifdropped}, ` +
          `by the hand-off queue (not analysed) ${cap.queueDropped}, delivered ${cap.packetsDelivered}` +
          (cap.linkDowns || cap.interruptions ? `, interface down ${cap.linkDowns} times, capture lost ${cap.interruptions} and reopened ${cap.reopens} times` : '') +
          (gate.skipped ? `, captured but not analysed at shutdown (drain deadline ${cfg.daemon.stopDrainSeconds} s) ${gate.skipped}` : '') + '\n',
      );
      return captureError ? 1 : 0;
    })();
    return stopping;
  };

  return new Promise<number>((resolve) => {
    const onStop = (sig: string) => () => { void stop(sig).then(resolve); };
    process.once('SIGTERM', onStop('SIGTERM'));
    process.once('SIGINT', onStop('SIGINT'));
    process.on('SIGHUP', () => {
      // a failed reload must never take the sensor down (an unhandled rejection would)
      reload().catch((e: unknown) => log.error({ err: (e as Error)?.message ?? String(e) }, 'reload failed, keeping the running configuration'));
    });
    // A capture error also ends the run.
    const check = setInterval(() => { if (stopping) { clearInterval(check); void stopping.then(resolve); } }, 200);
  });
}

