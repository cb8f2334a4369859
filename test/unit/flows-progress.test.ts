/**
 * conn_progress: long-lived flows report their counters while they run (every
 * 10 s of packet time with new payload, or every 8 MiB), so a large upload is
 * alerted while it runs, not when it ends.
 */
import { describe, it, expect } from 'vitest';
import { ethernet, ipv4Header, tcp } from '../helpers/craft.js';
import { Pipeline } from '../../src/pipeline.js';
import { Exfiltration, EXFILTRATION_DEFAULTS } from '../../src/detect/exfiltration.js';
import { CidrSet, PRIVATE_NETS } from '../../src/util/cidr.js';
import type { ConnEvent, ConnProgressEvent, NetEvent } from '../../src/events/types.js';
import type { Alert } from '../../src/alerts/types.js';
import type { TrackerOptions } from '../../src/flows/tracker.js';

const C = '10.0.0.5', S = '198.51.100.7';
const SYN = 0x02, ACK = 0x10, FIN = 0x01;
const T0 = 1_700_000_000;

/** One TCP segment C → S (or back) declaring `pay` payload bytes; only the headers are captured (as with a snap length). */
function seg(ts: number, fromClient: boolean, flags: number, pay = 0): { ts: number; data: number[] } {
  const [s, d, sp, dp] = fromClient ? [C, S, 40000, 443] : [S, C, 443, 40000];
  return { ts, data: ethernet([...ipv4Header(s, d, 6, 20 + pay), ...tcp(sp, dp, flags)]) };
}

/** an upload of `total` bytes at `rate` bytes/s in segments of `mss`, after a handshake at T0 */
function upload(total: number, rate: number, mss = 64_000): { ts: number; data: number[] }[] {
  const out = [seg(T0, true, SYN), seg(T0 + 0.001, false, SYN | ACK), seg(T0 + 0.002, true, ACK)];
  let t = T0 + 0.003;
  for (let sent = 0; sent < total; sent += mss) {
    out.push(seg(t, true, ACK, Math.min(mss, total - sent)));
    t += mss / rate;
  }
  out.push(seg(t, true, FIN | ACK), seg(t + 0.001, false, FIN | ACK), seg(t + 0.002, true, ACK));
  return out;
}

function run(frames: { ts: number; data: number[] }[], tracker: TrackerOptions = {}) {
  const events: NetEvent[] = [];
  const alerts: Alert[] = [];
  const exf = new Exfiltration(EXFILTRATION_DEFAULTS, { homeNet: CidrSet.parse([...PRIVATE_NETS]) });
  const p = new Pipeline({ detectors: [exf], tracker, onEvent: (e) => events.push(e), onAlert: (a) => alerts.push(a) });
  for (const f of frames) {
    const sec = Math.floor(f.ts), b = Buffer.from(f.data);
    p.packet(1, sec, Math.round((f.ts - sec) * 1e9), b, 0, b.length, b.length, 6);
  }
  p.finish();
  const progress = events.filter((e): e is ConnProgressEvent => e.type === 'conn_progress');
  const conn = events.find((e): e is ConnEvent => e.type === 'conn')!;
  return { events, alerts, progress, conn };
}

describe('conn_progress: mid-flow counters on packet time', () => {
  it('a 200 MB upload at 25 MB/s out of HOME_NET is alerted by exfiltration within 10 s of its first packet', () => {
    const { alerts, progress } = run(upload(200e6, 25e6));
    const first = alerts.find((a) => a.kind === 'exfiltration' && !a.update)!;
    expect(first).toMatchObject({ src: C, dst: S, dport: 443 });
    const ttd = first.ts - T0;
    console.log(`200 MB upload at 25 MB/s: exfiltration after ${ttd.toFixed(2)} s of packet time (flow lasts 8 s), ${progress.length} conn_progress events`);
    expect(ttd).toBeLessThanOrEqual(10);
    expect(ttd).toBeLessThan(2); // the first-seen floor (20 MiB) is crossed after ~0.9 s
  });

  it('reports every 8 MiB: deltas add up to the totals; the conn summary says what the reports carried', () => {
    const { progress, conn } = run(upload(200e6, 25e6));
    expect(progress.length).toBe(Math.floor(200e6 / (8 * 1048576)));
    let sum = 0;
    for (const p of progress) {
      sum += p.orig_bytes_delta;
      expect(p.orig_bytes).toBe(sum);
      expect(p.orig_bytes_delta).toBeGreaterThanOrEqual(8 * 1048576);
      expect(p).toMatchObject({ src: C, dst: S, dport: 443, proto: 'tcp', resp_bytes: 0 });
    }
    expect(conn.orig_bytes).toBe(200e6);
    expect(conn.reported_orig_bytes).toBe(progress.at(-1)!.orig_bytes);
  });

  it('the exfiltration episode counts each byte once (reports plus what the final summary adds)', () => {
    const { alerts } = run(upload(200e6, 25e6));
    const fin = alerts.filter((a) => a.kind === 'exfiltration').at(-1)!;
    expect((fin.evidence as { bytes_out: number }).bytes_out).toBe(200e6);
    expect((fin.evidence as { connections: number }).connections).toBe(1);
  });

  it('a slow long flow reports every 10 s of packet time while it carries payload', () => {
    const frames = [seg(T0, true, SYN), seg(T0 + 0.001, false, SYN | ACK), seg(T0 + 0.002, true, ACK)];
    for (let i = 1; i <= 35; i++) frames.push(seg(T0 + i, i % 2 === 0, ACK, 1000));
    const { progress } = run(frames);
    expect(progress.map((p) => Math.round(p.ts - T0))).toEqual([10, 20, 30]);
    expect(progress[0]).toMatchObject({ duration: 10, orig_bytes: 5000, resp_bytes: 5000 });
  });

  it('a short exchange writes no progress; with both triggers off there is none and exfiltration waits for the end', () => {
    expect(run(upload(1e6, 25e6)).progress).toEqual([]);
    const { progress, alerts } = run(upload(200e6, 25e6), { progress: { interval: 0, bytes: 0 } });
    expect(progress).toEqual([]);
    expect(alerts.find((a) => a.kind === 'exfiltration')!.ts - T0).toBeGreaterThan(7);
  });
});
