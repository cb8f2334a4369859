/** Generic alerts folded into the specific alert about the same host (src/alerts/fold.ts). */
import { describe, it, expect } from 'vitest';
import { GenericFold } from '../../../src/alerts/fold.js';
import type { Alert } from '../../../src/alerts/types.js';

const A = '10.77.0.1', V = '10.77.0.2';
function alert(kind: string, ts: number, o: Partial<Alert> = {}): Alert {
  return { kind, severity: 'medium', confidence: 0.5, ts, ts_first: ts, ts_last: ts, summary: kind, evidence: { n: 1 }, src: A, ...o };
}

function harness() {
  const f = new GenericFold();
  const out: Alert[] = [];
  const push = (a: Alert) => out.push(a);
  return { f, out, offer: (a: Alert) => f.offer(a, push), advance: (now: number) => f.advance(now, push), flush: () => f.flush(push) };
}

describe('fold: a rate alert repeating a specific alert is folded into it', () => {
  it('event_rate after a port_scan by the same source: not raised; the port_scan update carries it in evidence.folded', () => {
    const h = harness();
    h.offer(alert('port_scan', 100, { dst: V }));
    h.offer(alert('event_rate', 100.9, { summary: 'rate' }));
    h.flush();
    expect(h.out.map((a) => `${a.kind}${a.update ? ' update' : ''}`)).toEqual(['port_scan', 'port_scan update']);
    expect(h.out[1]!.evidence).toMatchObject({ n: 1, folded: [{ kind: 'event_rate', summary: 'rate' }] });
    expect(h.f.stats().folded).toBe(1);
  });

  it('event_rate before the flood alert (within the hold): held, then folded when icmp_flood names the same source', () => {
    const h = harness();
    h.offer(alert('event_rate', 100.1));
    h.advance(101);
    expect(h.out).toEqual([]);
    h.offer(alert('icmp_flood', 101.5, { dst: V }));
    h.flush();
    expect(h.out.map((a) => a.kind)).toEqual(['icmp_flood', 'icmp_flood']);
    expect(h.out[1]!.update).toBe(true);
  });

  it('event_rate with no specific alert about its host is released after the hold (5 s of packet time)', () => {
    const h = harness();
    h.offer(alert('event_rate', 100));
    h.offer(alert('port_scan', 100.5, { src: '10.77.0.9', dst: V }));
    h.advance(104.9);
    expect(h.out.map((a) => a.kind)).toEqual(['port_scan']);
    h.advance(105);
    expect(h.out.map((a) => a.kind)).toEqual(['port_scan', 'event_rate']);
  });

  it('with only generic detectors enabled (nothing could claim it) event_rate goes on at once, not after the hold', () => {
    const h = harness();
    h.f.setSpecificEnabled(false);
    h.offer(alert('event_rate', 100));
    expect(h.out.map((a) => a.kind)).toEqual(['event_rate']);
    h.f.setSpecificEnabled(true);
    h.offer(alert('event_rate', 101, { src: '10.77.0.7' }));
    expect(h.out).toHaveLength(1); // held again once a specific detector is back
  });

  it('a specific alert long before (beyond the 300 s window) does not cover a new rate alert', () => {
    const h = harness();
    h.offer(alert('port_scan', 100, { dst: V }));
    h.offer(alert('event_rate', 500));
    h.flush();
    expect(h.out.map((a) => a.kind)).toEqual(['port_scan', 'event_rate']);
  });

  it('what was folded stays in the evidence of the detector\'s own later update', () => {
    const h = harness();
    h.offer(alert('port_scan', 100, { dst: V }));
    h.offer(alert('event_rate', 101));
    h.offer(alert('port_scan', 130, { dst: V, update: true, evidence: { n: 1000 } }));
    expect(h.out[2]!.evidence).toMatchObject({ n: 1000, folded: [{ kind: 'event_rate' }] });
  });

  it('size_anomaly on the pair an exfiltration alert names the other way round is folded', () => {
    const h = harness();
    h.offer(alert('exfiltration', 100, { src: V, dst: A }));
    h.offer(alert('size_anomaly', 120, { src: A, dst: V }));
    expect(h.out.map((a) => a.kind)).toEqual(['exfiltration', 'exfiltration']);
  });

  it('holds at most maxEntries generic alerts: beyond, the oldest is released early and counted', () => {
    const f = new GenericFold({ maxEntries: 2 });
    const out: Alert[] = [];
    for (let i = 0; i < 3; i++) f.offer(alert('event_rate', 100, { src: `10.0.0.${i}` }), (a) => out.push(a));
    expect(out.map((a) => a.src)).toEqual(['10.0.0.0']);
    expect(f.stats()).toMatchObject({ released_early: 1, held: 2 });
  });
});
