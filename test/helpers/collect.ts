/** Runs bytes or files through the real pipeline and collects what comes out. */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PacketSink, TsDigits } from '../../src/capture/types.js';
import { readCapture } from '../../src/capture/reader.js';
import { Pipeline } from '../../src/pipeline.js';
import type { NetEvent } from '../../src/events/types.js';
import type { Alert } from '../../src/alerts/types.js';
import type { Detector } from '../../src/detect/detector.js';
import { eventToJson } from '../../src/events/serialize.js';
import { formatJson } from '../../src/alerts/format/json.js';
import { validateAlerts, validateEvents } from './schemas.js';

const SCHEMA_CTX = { hostname: 'test', sensor: 'test', version: '0.0.0' };

/**
 * What the pipeline produced, written the way tapwatch writes it (event log
 * line, json alert payload) and checked against schemas/*.schema.json: every
 * test that runs the pipeline through these helpers also pins the schemas.
 */
export function validateOutput(events: readonly NetEvent[], alerts: readonly Alert[], where: string): void {
  validateEvents(events.map(eventToJson), where);
  validateAlerts(alerts.map((a) => formatJson(a, SCHEMA_CTX)), where);
}

export interface Captured { linktype: number; sec: number; nsec: number; caplen: number; wirelen: number; digits: TsDigits | undefined; first: number }

/** A sink that records packet headers. */
export class RecordingSink implements PacketSink {
  readonly packets: Captured[] = [];
  packet(linktype: number, sec: number, nsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void {
    this.packets.push({ linktype, sec, nsec, caplen, wirelen, digits, first: caplen > 0 ? buf[off]! : -1 });
  }
}

export function tempFile(name: string, data: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'tapwatch-test-'));
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

export async function runPipeline(path: string, detectors: Detector[] = []): Promise<{ events: NetEvent[]; alerts: Alert[]; pipeline: Pipeline }> {
  const events: NetEvent[] = [];
  const alerts: Alert[] = [];
  const pipeline = new Pipeline({ detectors, onEvent: (e) => events.push(e), onAlert: (a) => alerts.push(a) });
  await readCapture(path, pipeline);
  pipeline.finish();
  validateOutput(events, alerts, path);
  return { events, alerts, pipeline };
}

/** Feeds raw frames (one link type) straight into a pipeline, one second apart unless told. */
export function runFrames(frames: { data: number[]; ts?: number }[], linktype = 1, detectors: Detector[] = []): { events: NetEvent[]; alerts: Alert[]; pipeline: Pipeline } {
  const events: NetEvent[] = [];
  const alerts: Alert[] = [];
  const pipeline = new Pipeline({ detectors, onEvent: (e) => events.push(e), onAlert: (a) => alerts.push(a) });
  frames.forEach((f, i) => {
    const ts = f.ts ?? 1_700_000_000 + i;
    const sec = Math.floor(ts);
    const b = Buffer.from(f.data);
    pipeline.packet(linktype, sec, Math.round((ts - sec) * 1e9), b, 0, b.length, b.length, 6);
  });
  pipeline.finish();
  validateOutput(events, alerts, 'frames');
  return { events, alerts, pipeline };
}
