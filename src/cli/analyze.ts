/** `tapwatch analyze FILE...`: offline captures through the whole pipeline. */
import { statSync, accessSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { Pipeline } from '../pipeline.js';
import { readCapture, InputError } from '../capture/reader.js';
import { buildDetectors } from '../detect/index.js';
import { CidrSet } from '../util/cidr.js';
import { eventToJson } from '../events/serialize.js';
import { formatJson, formatText, type FormatContext } from '../alerts/format/index.js';
import { LineWriter } from '../util/line-writer.js';
import { formatSummary, type FileResult } from './summary.js';
import type { Config } from '../config.js';
import type { Alert } from '../alerts/types.js';

export interface AnalyzeOptions {
  files: string[];
  output: string;
  format: 'json' | 'text';
  events?: string;
  config: Config;
  quiet: boolean;
  version: string;
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

/** Runs the analysis; returns the exit code (0 ok, 1 input damaged but analysed, 2 input unusable). */
export async function analyze(o: AnalyzeOptions): Promise<number> {
  checkInputs(o.files);
  const started = process.hrtime.bigint();
  const ctx: FormatContext = { hostname: hostname(), sensor: 'analyze', version: o.version };
  const out = new LineWriter(o.output);
  const events = o.events ? new LineWriter(o.events) : null;
  const alerts: Alert[] = [];
  const pipeline = new Pipeline({
    detectors: buildDetectors(o.config.detectors, { homeNet: CidrSet.parse(o.config.network.homeNet, 'network.homeNet') }),
    tracker: { timeouts: o.config.flows.timeouts, maxFlows: o.config.flows.maxFlows },
    suppression: { interval: o.config.alerts.suppression, perKind: o.config.alerts.perKind },
    updateEvery: o.config.alerts.updateEvery,
    onAlert: (a) => {
      if (o.format === 'json') out.line(formatJson(a, ctx));
      else alerts.push(a);
    },
    ...(events ? { onEvent: (e) => events.line(eventToJson(e)) } : {}),
  });
  const results: FileResult[] = [];
  let code = 0;
  for (const f of o.files) {
    const name = f === '-' ? 'stdin' : f;
    try {
      const r = await readCapture(f, pipeline);
      const fr: FileResult = { path: name, packets: r.packets };
      if (r.warning) {
        fr.warning = r.warning;
        process.stderr.write(`tapwatch: warning: ${r.warning}\n`);
        code = Math.max(code, 1);
      }
      results.push(fr);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // Keep what was already analysed: finish and write it, then fail.
      results.push({ path: name, packets: 0, error: e.message });
      process.stderr.write(`tapwatch: ${e.message}\n`);
      code = 2;
      break;
    }
  }
  const stats = pipeline.finish();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (o.format === 'text') {
    out.line(alerts.length === 0 ? 'no alerts' : `${alerts.length} alert${alerts.length === 1 ? '' : 's'}:`);
    for (const a of alerts) out.line(formatText(a, ctx));
    out.line('');
    out.line(formatSummary(stats, results, seconds));
  } else if (!o.quiet) {
    process.stderr.write(formatSummary(stats, results, seconds) + '\n');
  }
  out.close();
  events?.close();
  return code;
}
