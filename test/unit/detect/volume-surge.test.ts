import { describe, it, expect } from 'vitest';
import { VolumeSurge, VOLUME_SURGE_DEFAULTS, type VolumeSurgeConfig } from '../../../src/detect/volume-surge.js';
import type { NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const V = '10.0.0.53', C = '10.0.0.7';

function pt(ts: number) { return { ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const }; }
function msg(ts: number, dst = V, size = 80, src = C): NetEvent {
  return { ...pt(ts), type: 'tcp_syn', src, sport: 40000, dst, dport: 80, proto: 'tcp', size };
}
/** `perBucket` messages in each 10 s bucket from t0 for `buckets` buckets */
function steady(perBucket: number, t0: number, buckets: number, dst = V, size = 80): NetEvent[] {
  const out: NetEvent[] = [];
  for (let b = 0; b < buckets; b++) for (let i = 0; i < perBucket; i++) out.push(msg(t0 + b * 10 + (i * 10) / perBucket, dst, size));
  return out;
}

function run(events: NetEvent[], cfg: Partial<VolumeSurgeConfig> = {}, end?: number) {
  const d = new VolumeSurge({ ...VOLUME_SURGE_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  for (const e of events) { d.advance(e.ts, emit); d.onEvent(e, emit); }
  if (end !== undefined) { d.advance(end, emit); d.flush(end, emit); }
  return { d, alerts, first: alerts.filter((a) => !a.update), finals: alerts.filter((a) => a.update) };
}

const T0 = 10_000;

describe('volume_surge: learning', () => {
  it('does not judge a destination before 30 buckets of baseline (a flood to a new host is the flood detectors\' job)', () => {
    expect(run([...steady(10, T0, 5), ...steady(5000, T0 + 50, 1)], {}, T0 + 100).alerts).toHaveLength(0);
  });

  it('alerts once learned: 10 messages per bucket, then 3,000 in one bucket, T1498', () => {
    const { first } = run([...steady(10, T0, 30), ...steady(3000, T0 + 300, 1)]);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'volume_surge', dst: V, technique: 'T1498' });
    expect(first[0]!.evidence).toMatchObject({ metric: 'messages', bucket_messages: 2001 }); // crosses inside the bucket
  });

  it('counts quiet buckets as zeros of the baseline', () => {
    // seen once, then silent for 300 s: learned (30 buckets), baseline ≈ 0, so the floor decides
    const { first } = run([msg(T0), ...steady(2500, T0 + 300, 1)]);
    expect(first).toHaveLength(1);
  });
});

describe('volume_surge: thresholds', () => {
  it('does not count the declared body of HTTP requests as bytes (a large upload is not a flood)', () => {
    const up = (t: number): NetEvent => ({ ...pt(t), type: 'http_request', src: C, sport: 40000, dst: V, dport: 80, proto: 'tcp', size: 300 << 20,
      method: 'PUT', host: null, uri: '/u', version: 'HTTP/1.1', user_agent: null });
    expect(run([...steady(10, T0, 30), up(T0 + 301)], {}, T0 + 400).alerts).toHaveLength(0);
  });

  it('stays silent under the absolute floor (200 messages/s × 10 s) even far above the baseline', () => {
    expect(run([...steady(10, T0, 30), ...steady(2000, T0 + 300, 1)], {}, T0 + 400).alerts).toHaveLength(0);
  });

  it('stays silent when a steadily busy destination grows by 20 % (ratio guard)', () => {
    const ev: NetEvent[] = [];
    for (let b = 0; b < 40; b++) {
      const n = b < 35 ? 3000 + (b % 2 ? 30 : -30) : 3600;
      for (let i = 0; i < n; i++) ev.push(msg(T0 + b * 10 + (i * 10) / n));
    }
    expect(run(ev, {}, T0 + 500).alerts).toHaveLength(0);
  });

  it('alerts on bytes when messages stay normal but their size surges (DNS amplification)', () => {
    const { first } = run([...steady(50, T0, 30, V, 100), ...steady(60, T0 + 300, 1, V, 4000 * 60)]);
    expect(first).toHaveLength(1);
    expect(first[0]!.evidence).toMatchObject({ metric: 'bytes' });
  });

  it('stays silent on a benign diurnal-ish wobble (±50 % around 100 messages per bucket)', () => {
    const ev: NetEvent[] = [];
    for (let b = 0; b < 200; b++) {
      const n = Math.round(100 + 50 * Math.sin(b / 5));
      for (let i = 0; i < n; i++) ev.push(msg(T0 + b * 10 + (i * 10) / n));
    }
    expect(run(ev, {}, T0 + 2100).alerts).toHaveLength(0);
  });

  it('ignores destinations on the allow-list', () => {
    expect(run([...steady(10, T0, 30), ...steady(3000, T0 + 300, 1)], { allow: [V] }).alerts).toHaveLength(0);
  });
});

describe('volume_surge: episodes', () => {
  it('raises one alert for a 60 s surge and a final update after 3 normal buckets', () => {
    const ev = [...steady(10, T0, 30), ...steady(5000, T0 + 300, 6), ...steady(10, T0 + 360, 5)];
    const { first, finals } = run(ev, {}, T0 + 420);
    expect(first).toHaveLength(1);
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ dst: V, update: true });
    expect(finals[0]!.evidence).toMatchObject({ peak_bucket_messages: 5000, dominant_source: C, final: true });
    expect(finals[0]!.ts).toBeLessThan(T0 + 400);
  });

  it('ends an episode in advance() when the destination falls silent', () => {
    const d = new VolumeSurge(VOLUME_SURGE_DEFAULTS);
    const alerts: Alert[] = [];
    const emit = (a: Alert) => alerts.push(a);
    for (const e of [...steady(10, T0, 30), ...steady(5000, T0 + 300, 1)]) { d.advance(e.ts, emit); d.onEvent(e, emit); }
    expect(alerts).toHaveLength(1);
    d.advance(T0 + 335, emit);
    expect(alerts).toHaveLength(1);
    d.advance(T0 + 340, emit);
    expect(alerts).toHaveLength(2);
    expect(d.stats().episodes).toBe(0);
  });
});

describe('volume_surge: bounded state', () => {
  it('keeps at most maxDests records under traffic to 1,000,000 destinations', () => {
    const d = new VolumeSurge({ ...VOLUME_SURGE_DEFAULTS, maxDests: 1000 });
    const e = msg(T0) as { dst: string };
    for (let i = 0; i < 1_000_000; i++) {
      e.dst = `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.2`;
      d.onEvent(e as NetEvent, () => {});
    }
    expect(d.stats().dests).toBe(1000);
    expect(d.stats().dests_evicted).toBe(999_000);
  });
});
