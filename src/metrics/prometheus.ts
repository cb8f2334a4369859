/**
 * Prometheus endpoint for the daemon (`--metrics 127.0.0.1:9464`,
 * `daemon.metrics`; off by default). Every value is read from the counters
 * the pipeline, the capture, the detectors and the sinks already keep, at
 * scrape time (prom-client `collect`): nothing is added to the per-packet
 * path, and the numbers are the ones the stats log line and the summary show.
 *
 * Counters (`*_total`) only grow while the daemon runs; gauges are sizes.
 * Detector `stats()` mix counts and state sizes, so they are one gauge
 * family, `tapwatch_detector_stat{detector,stat}`.
 */
import * as http from 'node:http';
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import type { PipelineStats } from '../pipeline.js';
import type { Detector } from '../detect/detector.js';
import type { AlertSink } from '../sinks/sink.js';
import type { LiveStats } from '../capture/live.js';

export interface MetricsSource {
  stats: () => PipelineStats;
  detectors: () => readonly Detector[];
  sinks: () => readonly AlertSink[];
  /** the link/reopen counters are optional: a source without them reports 0 */
  capture: () => Omit<LiveStats, 'interruptions' | 'reopens' | 'linkDowns' | 'down'> & Partial<Pick<LiveStats, 'interruptions' | 'reopens' | 'linkDowns' | 'down'>>;
  /** captured but not analysed at shutdown (drain deadline) */
  notAnalysed: () => number;
  /** packet-time clock, seconds since the epoch */
  packetTime: () => number;
}

type Labels = Record<string, string>;
type Sample = [Labels, number];

/** Parses "host:port", "[v6]:port" or ":port" (= 127.0.0.1); throws with a message naming the problem. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s.trim());
  if (!m) throw new Error(`"${s}": expected host:port, e.g. 127.0.0.1:9464`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`"${s}": port ${port} out of range 1-65535`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function family(reg: Registry, kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[], samples: () => Sample[]): void {
  // reset first: a label set that disappeared (a sink replaced on SIGHUP) must not linger
  if (kind === 'counter') {
    new Counter({ name, help, labelNames, registers: [reg], collect() { this.reset(); for (const [l, v] of samples()) this.inc(l, v); } });
  } else {
    new Gauge({ name, help, labelNames, registers: [reg], collect() { this.reset(); for (const [l, v] of samples()) this.set(l, v); } });
  }
}

const byLabel = (label: string, rec: Record<string, number>): Sample[] => Object.entries(rec).map(([k, v]) => [{ [label]: k }, v]);

/** The registry with every tapwatch family (plus Node's process metrics). */
export function buildRegistry(src: MetricsSource): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg });
  const st = src.stats;
  family(reg, 'counter', 'tapwatch_packets_total', 'packets analysed', [], () => [[{}, st().packets]]);
  family(reg, 'counter', 'tapwatch_bytes_total', 'bytes on the wire of the packets analysed', [], () => [[{}, st().bytes]]);
  family(reg, 'counter', 'tapwatch_capture_received_total', 'packets the kernel passed to the capture', [], () => [[{}, src.capture().received]]);
  family(reg, 'counter', 'tapwatch_packets_dropped_total', 'packets lost or not analysed, by cause', ['cause'], () => {
    const c = src.capture();
    return [[{ cause: 'kernel' }, c.dropped], [{ cause: 'interface' }, c.ifdropped], [{ cause: 'queue' }, c.queueDropped], [{ cause: 'shutdown' }, src.notAnalysed()]];
  });
  // the capture interface going away (see src/capture/live.ts): counted, and 1 while no packets can come
  family(reg, 'counter', 'tapwatch_capture_link_downs_total', 'times the capture interface was seen down or absent', [], () => [[{}, src.capture().linkDowns ?? 0]]);
  family(reg, 'counter', 'tapwatch_capture_interruptions_total', 'times the capture was lost to a vanished interface and reopening began', [], () => [[{}, src.capture().interruptions ?? 0]]);
  family(reg, 'counter', 'tapwatch_capture_reopens_total', 'successful reopens of the capture after an interruption', [], () => [[{}, src.capture().reopens ?? 0]]);
  family(reg, 'gauge', 'tapwatch_capture_down', '1 while the interface is down or the capture is being reopened', [], () => [[{}, src.capture().down ?? 0]]);
  family(reg, 'counter', 'tapwatch_decode_errors_total', 'packets with a decode problem, by problem', ['issue'], () => byLabel('issue', st().decodeErrors));
  // dns_waiting is a current count: a gauge, not one of these counters
  family(reg, 'counter', 'tapwatch_transactions_total', 'DNS and HTTP pairing: answered, unmatched, unanswered, evicted …', ['what'],
    () => byLabel('what', Object.fromEntries(Object.entries(st().transactions).filter(([k]) => k !== 'dns_waiting'))));
  family(reg, 'gauge', 'tapwatch_dns_queries_waiting', 'DNS queries waiting for their answer', [], () => [[{}, st().transactions['dns_waiting'] ?? 0]]);
  family(reg, 'counter', 'tapwatch_packets_out_of_order_total', 'packets more than 1 s back in packet time', [], () => [[{}, st().outOfOrder]]);
  family(reg, 'counter', 'tapwatch_events_total', 'events decoded, by type', ['type'], () => byLabel('type', st().events));
  family(reg, 'counter', 'tapwatch_alerts_raised_total', 'alerts raised by detectors, by kind (before suppression)', ['kind'], () => byLabel('kind', st().alerts));
  family(reg, 'counter', 'tapwatch_alerts_written_total', 'alerts delivered to the outputs (new ones and updates)', [], () => [[{}, st().alertsOut]]);
  family(reg, 'counter', 'tapwatch_alerts_suppressed_total', 'repeats folded by suppression', [], () => [[{}, st().suppressed]]);
  family(reg, 'gauge', 'tapwatch_flows_active', 'flows in the flow table', [], () => [[{}, st().flows.active]]);
  family(reg, 'counter', 'tapwatch_flows_created_total', 'flows created', [], () => [[{}, st().flows.created]]);
  family(reg, 'counter', 'tapwatch_flows_evicted_total', 'flows evicted by the table cap', [], () => [[{}, st().flows.evicted]]);
  family(reg, 'gauge', 'tapwatch_packet_time_seconds', 'the packet-time clock (latest packet timestamp)', [], () => [[{}, src.packetTime()]]);
  family(reg, 'gauge', 'tapwatch_detector_stat', 'detector counters and state sizes, as in the stats log line', ['detector', 'stat'], () =>
    src.detectors().flatMap((d) => Object.entries(d.stats()).map(([k, v]): Sample => [{ detector: d.name, stat: k }, v])));
  family(reg, 'gauge', 'tapwatch_output_stat', 'output counters (written, delivered, spooled, dropped …)', ['output', 'stat'], () =>
    src.sinks().flatMap((s) => Object.entries(s.stats()).map(([k, v]): Sample => [{ output: s.name, stat: k }, v])));
  family(reg, 'gauge', 'tapwatch_spool_messages', 'messages waiting in an output\'s on-disk spool', ['output'], () =>
    src.sinks().flatMap((s): Sample[] => { const v = s.stats().spool_pending; return v === undefined ? [] : [[{ output: s.name }, v]]; }));
  family(reg, 'gauge', 'tapwatch_spool_bytes', 'bytes waiting in an output\'s on-disk spool', ['output'], () =>
    src.sinks().flatMap((s): Sample[] => { const v = s.stats().spool_bytes; return v === undefined ? [] : [[{ output: s.name }, v]]; }));
  return reg;
}

/** Serves GET /metrics on host:port; resolves once listening, rejects with the bind error. */
export async function serveMetrics(reg: Registry, listen: string): Promise<http.Server> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('tapwatch: metrics are at /metrics\n');
      return;
    }
    reg.metrics().then(
      (body) => res.writeHead(200, { 'content-type': reg.contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return server;
}
