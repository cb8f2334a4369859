/** `tapwatch report ALERTS.jsonl [EVENTS.jsonl] -o report.html`: the HTML report from written files. */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ReportBuilder, type ReportData } from '../report/model.js';
import { renderReport } from '../report/render.js';
import { readAlerts, readEvents } from '../report/read.js';

export interface ReportOptions { alerts: string; events?: string; output: string; title?: string }

/** The page's title: what it covers, from the inputs' names. */
export function reportTitle(inputs: string[], title?: string): string {
  return title ?? `tapwatch report: ${inputs.length <= 3 ? inputs.map((f) => basename(f)).join(', ') : `${inputs.length} inputs`}`;
}

/** writes the page to `path` (`-`: stdout) */
export function writeReport(path: string, data: ReportData): void {
  const html = renderReport(data);
  if (path === '-') process.stdout.write(html); else writeFileSync(path, html);
}

export async function report(o: ReportOptions): Promise<number> {
  const b = new ReportBuilder();
  await readAlerts(b, o.alerts);
  if (o.events !== undefined) await readEvents(b, o.events);
  const inputs = o.events !== undefined ? [o.alerts, o.events] : [o.alerts];
  const data = b.build(reportTitle([o.alerts], o.title), inputs);
  writeReport(o.output, data);
  return 0;
}
