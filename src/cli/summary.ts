/** The end-of-run summary: packets read, events by type, alerts by kind, decode problems. */
import type { PipelineStats } from '../pipeline.js';
import type { CapReport } from '../detect/caps.js';

export interface FileResult { path: string; packets: number; warning?: string; error?: string }

function table(title: string, rec: Record<string, number>): string[] {
  const keys = Object.keys(rec).sort((a, b) => rec[b]! - rec[a]! || a.localeCompare(b));
  if (keys.length === 0) return [`${title}: none`];
  const w = Math.max(...keys.map((k) => k.length));
  return [`${title}:`, ...keys.map((k) => `  ${k.padEnd(w)}  ${rec[k]}`)];
}

export function formatSummary(st: PipelineStats, files: FileResult[], seconds: number): string {
  const span = st.lastTs > st.firstTs ? st.lastTs - st.firstTs : 0;
  const lines = [
    '--- tapwatch summary ---',
    ...files.map((f) => `file ${f.path}: ${f.packets} packets${f.warning ? ` (warning: ${f.warning})` : ''}${f.error ? ` (error: ${f.error})` : ''}`),
    `packets: ${st.packets}  bytes: ${st.bytes}  ip: ${st.ipPackets}  non-ip: ${st.nonIp}  IP fragments held for reassembly: ${st.fragments}`,
    `packet time span: ${span.toFixed(3)} s  analysis took ${seconds.toFixed(2)} s (${seconds > 0 ? Math.round(st.packets / seconds) : 0} packets/s)`,
    `flows: ${st.flows.created} created, ${st.flows.evicted} evicted by the table cap`,
    `peak memory: ${peakRssMiB()} MiB resident (whole process; budget limits.memoryMiB)`,
    ...capLines(st.caps),
    ...(st.workers ? workerLines(st.workers, st.events) : []),
    ...table('events by type', st.events),
    ...table('alerts raised by kind', st.alerts),
    // incident records go to the same outputs: the total is what the outputs received
    `alerts written: ${st.alertsOut + st.incidentRecords} (incident records among them: ${st.incidentRecords}; repeats folded by suppression: ${st.suppressed}; generic alerts folded into a specific one: ${st.foldedGeneric})`,
    ...table('decode errors', st.decodeErrors),
    ...table('transactions (DNS and HTTP pairing)', st.transactions),
  ];
  if (Object.keys(st.linktypes).length) lines.push(...table('packets with unsupported link types', st.linktypes));
  if (st.outOfOrder) lines.push(`out-of-order packets (more than 1 s back in time): ${st.outOfOrder}`);
  if (st.pcap) {
    const { ring: r, files: f } = st.pcap;
    lines.push(`pcap on alert: ${f.files} file${f.files === 1 ? '' : 's'} (rewritten for updates: ${f.rewritten}), ${f.packets} packets, ${f.bytes} bytes written; packets left out by the caps: ${f.cut}; rotated out: ${f.rotated}; alerts with no kept packet: ${f.empty}; write errors: ${f.errors}`);
    lines.push(`pcap ring: ${r.flows} flows, ${r.packets} packets, ${r.bytes} bytes kept; flows evicted: ${r.evicted}; packets not kept (per-flow caps): ${r.dropped}`);
  }
  return lines.join('\n');
}

/** Parallel mode: what each flow worker got and produced, beside what the detectors got (they must add up). */
function workerLines(ws: { packets: number; events: number }[], events: Record<string, number>): string[] {
  const p = ws.map((w) => w.packets), e = ws.map((w) => w.events);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return [
    `workers: packets ${sum(p)} (${p.join(' + ')}), events ${sum(e)} (${e.join(' + ')})`,
    `events delivered to the detectors: ${sum(Object.values(events))}`,
  ];
}

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * Which caps evicted what: one line per cap that evicted (or refused)
 * anything, e.g. "flow table: 1,234,567 evicted at cap 200,000
 * (flows.maxFlows)". Nothing evicted: one line saying so.
 */
export function capLines(caps: readonly CapReport[]): string[] {
  const hit = caps.filter((c) => c.evicted > 0);
  if (hit.length === 0) return ['state caps: nothing evicted'];
  return ['state caps that evicted (to stay within the memory budget, limits.memoryMiB):',
    ...hit.map((c) => `  ${c.name}: ${n(c.evicted)} evicted at cap ${n(c.cap)} (${c.key}; ${n(c.entries)} held at the end)`)];
}

/** the process's peak resident set so far (getrusage ru_maxrss = /proc/self/status VmHWM), MiB */
export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** The summary as one JSON object (analyze --summary-json): the same counters, caps with their evictions. */
export function summaryJson(st: PipelineStats, files: FileResult[], seconds: number): Record<string, unknown> {
  return {
    files, packets: st.packets, bytes: st.bytes, ip_packets: st.ipPackets, non_ip: st.nonIp, fragments: st.fragments,
    span_s: st.lastTs > st.firstTs ? st.lastTs - st.firstTs : 0, seconds, peak_rss_mib: peakRssMiB(),
    flows: { created: st.flows.created, evicted: st.flows.evicted, active: st.flows.active },
    caps: st.caps.map((c) => ({ name: c.name, key: c.key, cap: c.cap, entries: c.entries, evicted: c.evicted })),
    events: st.events, alerts: st.alerts, alerts_written: st.alertsOut + st.incidentRecords, incident_records: st.incidentRecords,
    suppressed: st.suppressed, folded_generic: st.foldedGeneric, decode_errors: st.decodeErrors, out_of_order: st.outOfOrder,
    ...(st.workers ? { workers: st.workers } : {}),
  };
}
