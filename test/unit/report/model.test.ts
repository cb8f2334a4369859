import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ReportBuilder, segmentsOf, bucketFor, bucketize, axisX, groupBy, MAX_BUCKETS } from '../../../src/report/model.js';
import { escapeHtml, jsonForScript } from '../../../src/report/escape.js';
import { renderReport } from '../../../src/report/render.js';

const alert = (o: Record<string, unknown>) => ({ ts: 100, ts_first: 100, ts_last: 100, kind: 'port_scan', severity: 'medium', summary: 's', evidence: {}, ...o });

describe('report time axis', () => {
  it('cuts idle stretches longer than the gap into breaks, each segment ending after its last second', () => {
    const s = segmentsOf([10, 11.5, 15, 1000, 1001, 50_000], 300);
    expect(s.map((g) => [g.start, g.end])).toEqual([[10, 16], [1000, 1002], [50_000, 50_001]]);
    // ordered, inside [0, 1], every segment visible
    for (let i = 0; i < s.length; i++) {
      expect(s[i]!.x1).toBeGreaterThan(s[i]!.x0);
      if (i) expect(s[i]!.x0).toBeGreaterThan(s[i - 1]!.x1);
    }
    expect(s[s.length - 1]!.x1).toBeCloseTo(1, 9);
    expect(axisX(s, 10)).toBe(0);
    expect(axisX(s, 500)).toBeNull();
  });

  it('picks the smallest bucket that keeps the plot under MAX_BUCKETS and sums every second into one bucket', () => {
    const segs = segmentsOf(Array.from({ length: 37 }, (_, i) => i * 100), 300); // one segment, 0 .. 3601
    expect(bucketFor(segs)).toBe(10);
    const per = new Map<number, number>([[0, 1], [9, 2], [10, 4], [3599, 8]]);
    const { t, v } = bucketize(per, segs, 10);
    expect(t.length).toBe(361);
    expect(v[0]).toBe(3);
    expect(v[1]).toBe(4);
    expect(v[359]).toBe(8);
    expect(v.reduce((a, b) => a + b, 0)).toBe(15);
  });

  it('keeps the bucket count bounded for any activity', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 300 }), (secs) => {
      const segs = segmentsOf(secs, 300);
      const b = bucketFor(segs);
      const { t } = bucketize(new Map(), segs, b);
      return t.length <= MAX_BUCKETS || b === 86400;
    }));
  });
});

describe('ReportBuilder', () => {
  it('folds updates into their alert: one alert per id, the detector end-of-episode record into the same kind and hosts', () => {
    const b = new ReportBuilder();
    b.addAlert(alert({ id: 'A1', src: '10.0.0.1', dst: '10.0.0.2', summary: 'scan' }));
    b.addAlert(alert({ id: 'A1', ts: 150, ts_last: 150, src: '10.0.0.1', dst: '10.0.0.2', count: 3, update: true, severity: 'high', summary: 'scan x3' }));
    b.addAlert(alert({ id: 'A9', ts: 900, ts_last: 800, src: '10.0.0.1', dst: '10.0.0.2', update: true, summary: 'scan ended' }));
    b.addAlert(alert({ id: 'A2', kind: 'syn_flood', dst: '10.0.0.2', ts: 120 }));
    b.addAlert(alert({ kind: 'incident', ts: 130, evidence: { incident_id: 'inc-1', stages: ['scan'], attackers: ['10.0.0.1'], victims: ['10.0.0.2'], alerts: 2 } }));
    expect(b.addAlert({ nope: 1 })).toBe(false);
    const d = b.build('t', ['x']);
    expect(d.alerts.map((a) => a.id)).toEqual(['A1', 'A2']);
    const a1 = d.alerts[0]!;
    expect(a1).toMatchObject({ ts: 100, ts_last: 800, severity: 'high', updates: 2, summary: 'scan', summary_latest: 'scan ended' });
    expect(d.incidents.map((n) => n.id)).toEqual(['inc-1']);
    expect(d.byAttacker.map((g) => g.host)).toEqual(['10.0.0.1', '(no single source)']);
    expect(d.byVictim).toHaveLength(1);
    expect(d.byVictim[0]!.alerts).toEqual(['A1', 'A2']);
    expect(d.notes.join(' ')).toMatch(/1 line of alerts were not alerts/);
  });

  it('counts events, talkers by payload bytes and packets per second', () => {
    const b = new ReportBuilder();
    b.addEvent({ ts: 5.5, type: 'conn', src: 'a', dst: 'b', orig_bytes: 100, resp_bytes: 50 });
    b.addEvent({ ts: 5.9, type: 'tcp_syn', src: 'c', dst: 'b' });
    b.addEvent({ ts: 'x', type: 'dns' });
    b.addPackets(5, 7);
    const d = b.build('t', []);
    expect(d.eventCounts).toEqual({ conn: 1, tcp_syn: 1 });
    expect(d.talkers.slice(0, 2)).toEqual([{ host: 'a', bytes: 150, flows: 1, events: 0 }, { host: 'b', bytes: 150, flows: 1, events: 0 }]);
    expect(d.series.packets).toEqual([7]);
    expect(d.series.events).toEqual([2]);
    expect(d.totals.packets).toBe(7);
    expect(d.notes.join(' ')).toMatch(/1 line of events were not events/);
  });

  it('groups with no host on a side under one label', () => {
    const b = new ReportBuilder();
    b.addAlert(alert({ id: 'X', dst: 'v' }));
    expect(groupBy(b.build('t', []).alerts, 'src')[0]!.host).toBe('(no single source)');
  });
});

describe('report escaping', () => {
  it('escapes text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('script-safe JSON never holds </script> or <!-- and parses back to the same value', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.string(), (v, s) => {
      const j = jsonForScript({ v, s: `</script><!--${s}` });
      return !/[<>&\u2028\u2029]/.test(j) && JSON.stringify(JSON.parse(j)) === JSON.stringify({ v, s: `</script><!--${s}` });
    }));
  });

  it('puts the title through escapeHtml and the data in one JSON block', () => {
    const b = new ReportBuilder();
    b.addAlert(alert({ id: 'A', summary: '</script><script>alert(1)</script>' }));
    const html = renderReport(b.build('<b>title</b>', ['<i>in</i>']));
    expect(html).toContain('<title>&lt;b&gt;title&lt;/b&gt;</title>');
    expect(html).not.toContain('<b>');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).toMatch(/Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
  });
});
