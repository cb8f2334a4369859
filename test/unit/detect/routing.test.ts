/**
 * Event routing: every detector declares the event types it consumes and what
 * its state is keyed by; the pipeline hands an event only to the detectors
 * that consume its type. These tests pin that the declarations are complete
 * (an event type a detector does not declare changes nothing in it) and that
 * the pipeline routes by them, also after a reconfigure changes them.
 */
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { buildDetectors, detectorDefaults } from '../../../src/detect/index.js';
import type { Detector, Emit } from '../../../src/detect/detector.js';
import { EVENT_TYPES, type EventType, type NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';
import { CidrSet } from '../../../src/util/cidr.js';
import { runPipeline } from '../../helpers/collect.js';
import { Pipeline } from '../../../src/pipeline.js';
import { readCapture } from '../../../src/capture/reader.js';
import { EventRate, EVENT_RATE_DEFAULTS } from '../../../src/detect/event-rate.js';

const PCAPS = resolve(__dirname, '../../../pcaps');
const KEYS = ['src', 'dst', 'initiator', 'pair', 'global'];

function all(): Detector[] {
  return buildDetectors(detectorDefaults(), { homeNet: CidrSet.parse(['10.77.0.0/24']) });
}

/** every event of every bundled capture (the real mix of types and fields) */
async function corpusEvents(): Promise<NetEvent[]> {
  const out: NetEvent[] = [];
  for (const f of readdirSync(PCAPS).filter((n) => n.endsWith('.pcap')).sort()) out.push(...(await runPipeline(resolve(PCAPS, f))).events);
  return out;
}

describe('detector declarations', () => {
  it('every registered detector consumes known event types and names a known key', () => {
    for (const d of all()) {
      expect(d.consumes.length, d.name).toBeGreaterThan(0);
      for (const t of d.consumes) expect(EVENT_TYPES, `${d.name} consumes ${t}`).toContain(t);
      const keys = typeof d.keyBy === 'string' ? [d.keyBy] : Object.values(d.keyBy);
      for (const k of keys) expect(KEYS, d.name).toContain(k);
    }
  });

  it('an event of a type a detector does not consume changes nothing in it (the routing loses nothing)', async () => {
    const events = await corpusEvents();
    const types = new Set(events.map((e) => e.type));
    expect(types.size).toBeGreaterThanOrEqual(8); // the captures exercise most types
    for (const d of all()) {
      const ignored = events.filter((e) => !d.consumes.includes(e.type));
      const before = JSON.stringify(d.stats());
      const raised: Alert[] = [];
      const emit: Emit = (a) => raised.push(a);
      for (const e of ignored) d.onEvent(e, emit);
      expect(raised, d.name).toEqual([]);
      expect(JSON.stringify(d.stats()), d.name).toBe(before);
    }
  }, 120_000);
});

/** records what it is handed */
class Probe implements Detector {
  readonly name = 'probe';
  readonly keyBy = 'global' as const;
  seen: EventType[] = [];
  constructor(public consumes: readonly EventType[]) {}
  onEvent(e: NetEvent): void { this.seen.push(e.type); }
  advance(): void {}
  flush(): void {}
  stats(): Record<string, number> { return { seen: this.seen.length }; }
}

describe('pipeline routing', () => {
  it('delivers an event only to the detectors that consume its type, each in capture order', async () => {
    const dns = new Probe(['dns']);
    const conn = new Probe(['tcp_syn', 'conn']);
    const { events } = await runPipeline(resolve(PCAPS, 'dns-basic.pcap'), [dns, conn]);
    expect(dns.seen.length).toBeGreaterThan(0);
    expect(dns.seen).toEqual(events.filter((e) => e.type === 'dns').map((e) => e.type));
    expect(conn.seen).toEqual(events.filter((e) => e.type === 'tcp_syn' || e.type === 'conn').map((e) => e.type));
  });

  it('reads consumes again when the detector list is installed after a reconfigure', async () => {
    const rate = new EventRate({ ...EVENT_RATE_DEFAULTS, types: ['dns'] });
    expect(rate.consumes).toEqual(['dns']);
    expect(rate.reconfigure({ types: ['tcp_syn', 'no_such_type'] })).toBe(true);
    expect(rate.consumes).toEqual(['tcp_syn']);
    const probe = new Probe(['icmp']);
    const p = new Pipeline({ detectors: [probe], onAlert: () => {} });
    await readCapture(resolve(PCAPS, 'dns-basic.pcap'), p);
    expect(probe.seen).toEqual([]); // the capture has DNS, no ICMP
    probe.consumes = ['dns'];
    p.setDetectors([probe]);
    await readCapture(resolve(PCAPS, 'dns-basic.pcap'), p);
    expect(probe.seen.length).toBeGreaterThan(0);
    expect(new Set(probe.seen)).toEqual(new Set(['dns']));
  });
});
