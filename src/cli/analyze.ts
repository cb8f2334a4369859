/** `tapwatch analyze FILE...`: offline captures through the whole pipeline. */
import { statSync, accessSync, constants } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { Pipeline } from '../pipeline.js';
import { readCapture, InputError } from '../capture/reader.js';
import { readMerged } from '../capture/merge.js';
import { ProgressLine } from './progress.js';
import { buildDetectors } from '../detect/index.js';
import { CidrSet } from '../util/cidr.js';
import { eventToJson } from '../events/serialize.js';
import { formatJson, formatText, getFormatter, type FormatContext } from '../alerts/format/index.js';
import type { PayloadFormat } from '../sinks/sink.js';
import { LineWriter } from '../util/line-writer.js';
import { parseSeed, randomSeed } from '../flows/uid.js';
import { ParallelAnalysis } from '../parallel/parallel.js';
import type { PacketSink } from '../capture/types.js';
import { formatSummary, summaryJson, type FileResult } from './summary.js';
import { writeFileSync } from 'node:fs';
import { ConfigError, type Config } from '../config.js';
import { pcapOptions } from '../alerts/pcap-log.js';
import type { NetEvent } from '../events/types.js';
import type { Alert } from '../alerts/types.js';
import type { TsDigits } from '../capture/types.js';
import { ReportBuilder } from '../report/model.js';
import { reportTitle, writeReport } from './report.js';

export interface AnalyzeOptions {
  files: string[];
  output: string;
  format: 'json' | 'text';
  /** with format json: the line payload, as run's file/stdout/syslog outputs write it (json, ecs, cef); default json */
  payload?: PayloadFormat;
  events?: string;
  /** the summary as one JSON object to this file ("-": stdout) */
  summaryJson?: string;
  config: Config;
  quiet: boolean;
  /** read the files one after the other instead of merging them by packet time */
  sequential?: boolean;
  /** also write the HTML report of this run here (src/report/) */
  report?: string;
  version: string;
}

/**
 * Counts packets per second of packet time for the report's rate plot, in
 * front of the real sink. Only put in place with --report: without it the
 * reader calls the pipeline directly.
 */
class PacketsPerSecond implements PacketSink {
  private sec = Number.NaN;
  private n = 0;
  constructor(private readonly inner: PacketSink, private readonly report: ReportBuilder) {}
  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void {
    if (tsSec !== this.sec) { this.flush(); this.sec = tsSec; }
    this.n++;
    this.inner.packet(linktype, tsSec, tsNsec, buf, off, caplen, wirelen, digits);
  }
  flush(): void {
    if (this.n > 0) this.report.addPackets(this.sec, this.n);
    this.n = 0;
  }
}

/** A problem the user must fix; reported as one line, exit code 2. */
export class UsageError extends Error {}

/** Checks every input before reading any, so a typo in the last name fails fast. */
export function checkInputs(files: string[]): void {
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin ("-") can be given only once');
  for (const f of files) {
    if (f === '-') continue;
    let st;
    try {
      st = statSync(f);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${f}: ${code === 'EACCES' ? 'permission denied' : code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot read (${code})`}`);
    }
    if (st.isDirectory()) throw new UsageError(`${f}: is a directory, not a capture file`);
    try { accessSync(f, constants.R_OK); } catch { throw new UsageError(`${f}: permission denied`); }
  }
}

/** stands in for stderr with --quiet: never a TTY, so no progress line */
const nullTty = { isTTY: false } as NodeJS.WriteStream;

/** Runs the analysis; returns the exit code (0 ok, 1 input damaged but analysed, 2 input unusable). */
export async function analyze(o: AnalyzeOptions): Promise<number> {
  checkInputs(o.files);
  const started = process.hrtime.bigint();
  const ctx: FormatContext = { hostname: hostname(), sensor: 'analyze', version: o.version };
  // the same formatter run's sinks pick for this payload (sinks/from-config.ts → getFormatter)
  const line = getFormatter(o.payload ?? 'json');
  const out = new LineWriter(o.output);
  const events = o.events ? new LineWriter(o.events) : null;
  const alerts: Alert[] = [];
  const rep = o.report !== undefined ? new ReportBuilder() : null;
  // the report reads what the alert file holds (the same JSON), so `tapwatch report` on that file gives the same page
  const toReport = (a: Alert): void => { rep?.addAlert(JSON.parse(formatJson(a, ctx))); };
  const onEvent = events && rep ? (e: NetEvent) => { events.line(eventToJson(e)); rep.addEvent(e); }
    : events ? (e: NetEvent) => events.line(eventToJson(e))
      : rep ? (e: NetEvent) => { rep.addEvent(e); } : null;
  const seed = o.config.flows.uidSeed !== '' ? parseSeed(o.config.flows.uidSeed) : randomSeed();
  const trackerOpts = {
    timeouts: o.config.flows.timeouts, maxFlows: o.config.flows.maxFlows, progress: o.config.flows.progress, homeNet: o.config.network.homeNet,
    dnsPending: o.config.flows.dnsPending,
  };
  const nw = o.config.flows.workers === 0 ? availableParallelism() : o.config.flows.workers;
  // the packet ring lives where the flows are: with flow workers it would have to be in every worker
  if (o.config.alerts.pcap.enabled && nw > 1) throw new ConfigError('alerts.pcap.enabled (--pcap-on-alert) needs flows.workers 1: the packets of the flows are kept by the single-thread pipeline');
  const pcap = pcapOptions(o.config.alerts.pcap, o.output);
  const pipeline = new Pipeline({
    ...(pcap ? { pcap: { ...pcap, onError: (m: string) => process.stderr.write(`tapwatch: warning: ${m}\n`) } } : {}),
    detectors: buildDetectors(o.config.detectors, { homeNet: CidrSet.parse(o.config.network.homeNet, 'network.homeNet') }),
    tracker: trackerOpts,
    suppression: { interval: o.config.alerts.suppression, perKind: o.config.alerts.perKind },
    updateEvery: o.config.alerts.updateEvery,
    uidSeed: seed,
    fold: o.config.alerts.fold,
    onAlert: (a) => {
      if (o.format === 'json') out.line(line(a, ctx));
      else alerts.push(a);
      toReport(a);
    },
    ...(o.config.alerts.incidents.enabled ? {
      incidents: o.config.alerts.incidents,
      // incident records are written where the alerts are, as their own kind
      onIncident: (r: Alert) => { if (o.format === 'json') out.line(line(r, ctx)); else alerts.push(r); toReport(r); },
    } : {}),
    ...(onEvent ? { onEvent } : {}),
  });
  const par = nw > 1
    ? new ParallelAnalysis(pipeline, { workers: nw, tracker: trackerOpts, uidSeed: seed })
    : null;
  const counter = rep ? new PacketsPerSecond(par ?? pipeline, rep) : null;
  const sink: PacketSink = counter ?? par ?? pipeline;
  const results: FileResult[] = [];
  let code = 0;
  const total = o.files.reduce((n, f) => n + (f === '-' ? 0 : statSync(f).size), 0);
  const progress = new ProgressLine({ stream: o.quiet ? nullTty : process.stderr, total: o.files.includes('-') ? 0 : total, packets: () => (par ? par.packets : pipeline.stats.packets) });
  const warn = (name: string, r: { packets: number; warning?: string }): void => {
    const fr: FileResult = { path: name, packets: r.packets };
    if (r.warning) {
      fr.warning = r.warning;
      progress.stop();
      process.stderr.write(`tapwatch: warning: ${r.warning}\n`);
      code = Math.max(code, 1);
    }
    results.push(fr);
  };
  if (o.files.length > 1 && !o.sequential) {
    for (const m of await readMerged(o.files, sink, progress.counter)) {
      if (!m.error) { warn(m.path, m.result); continue; }
      // an unreadable input is left out of the merge; the others are analysed and the run fails
      progress.stop();
      results.push({ path: m.path, packets: 0, error: m.error.message });
      process.stderr.write(`tapwatch: ${m.error.message}\n`);
      code = 2;
    }
  } else for (const f of o.files) {
    const name = f === '-' ? 'stdin' : f;
    try {
      warn(name, await readCapture(f, sink, undefined, progress.counter));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      progress.stop();
      // Keep what was already analysed: finish and write it, then fail.
      results.push({ path: name, packets: 0, error: e.message });
      process.stderr.write(`tapwatch: ${e.message}\n`);
      code = 2;
      break;
    }
  }
  progress.stop();
  const stats = par ? par.finish() : pipeline.finish();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (o.format === 'text') {
    out.line(alerts.length === 0 ? 'no alerts' : `${alerts.length} alert${alerts.length === 1 ? '' : 's'}:`);
    // in packet time order (end-of-input updates are raised last but may be older)
    alerts.sort((a, b) => a.ts - b.ts || a.ts_first - b.ts_first);
    for (const a of alerts) out.line(formatText(a, ctx));
    out.line('');
    out.line(formatSummary(stats, results, seconds));
  } else if (!o.quiet) {
    process.stderr.write(formatSummary(stats, results, seconds) + '\n');
  }
  if (o.summaryJson !== undefined) {
    const text = JSON.stringify(summaryJson(stats, results, seconds)) + '\n';
    if (o.summaryJson === '-') out.line(text.trimEnd());
    else {
      try { writeFileSync(o.summaryJson, text); } catch (e) {
        process.stderr.write(`tapwatch: ${o.summaryJson}: cannot write the summary (${(e as NodeJS.ErrnoException).code ?? 'error'})\n`);
        code = Math.max(code, 2);
      }
    }
  }
  out.close();
  events?.close();
  if (rep && o.report !== undefined) {
    counter?.flush();
    const names = results.map((r) => r.path);
    writeReport(o.report, rep.build(reportTitle(names), names));
  }
  return code;
}
