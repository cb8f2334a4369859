/**
 * Reading the alert and event files (JSON lines) into a ReportBuilder. Streams
 * line by line, so an event log of any size is read in constant memory. A
 * line that is not JSON, or not an alert/event, is counted and said in the
 * report (never skipped silently); a file with lines but not one alert is not
 * an alert file, and says so.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ReportBuilder } from './model.js';

export class ReportInputError extends Error {}

/** Feeds every line of `path` to `add`; returns [lines, accepted]. */
async function eachLine(path: string, add: (v: unknown) => boolean, unreadable: () => void): Promise<[number, number]> {
  const input = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => { input.once('open', () => resolve()); input.once('error', reject); });
  try { await opened; } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReportInputError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code})`}`);
  }
  let lines = 0, ok = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    lines++;
    let v: unknown;
    try { v = JSON.parse(line); } catch { unreadable(); continue; }
    if (add(v)) ok++;
  }
  return [lines, ok];
}

export async function readAlerts(b: ReportBuilder, path: string): Promise<void> {
  const [lines, ok] = await eachLine(path, (v) => b.addAlert(v, path), () => b.addUnreadable(path));
  if (lines > 0 && ok === 0) throw new ReportInputError(`${path}: not an alert file (none of its ${lines} lines is a tapwatch alert)`);
}

export async function readEvents(b: ReportBuilder, path: string): Promise<void> {
  const [lines, ok] = await eachLine(path, (v) => b.addEvent(v, path), () => b.addUnreadable(path));
  if (lines > 0 && ok === 0) throw new ReportInputError(`${path}: not an event log (none of its ${lines} lines is a tapwatch event)`);
}
