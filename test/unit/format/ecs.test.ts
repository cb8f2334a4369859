import { describe, it, expect } from 'vitest';
import { formatEcs } from '../../../src/alerts/format/ecs.js';
import { alert, ctx, NASTY, nonPrintableAscii } from './fixtures.js';

describe('formatEcs', () => {
  it('maps an alert onto ECS alert fields', () => {
    const d = JSON.parse(formatEcs(alert({ count: 3 }), ctx));
    expect(d['@timestamp']).toBe('2023-11-14T22:13:20.123456Z');
    expect(d.event).toMatchObject({
      kind: 'alert',
      category: ['network', 'intrusion_detection'],
      severity: 8,
      module: 'tapwatch',
      dataset: 'tapwatch.alert',
      start: '2023-11-14T22:13:10.000001Z',
      end: '2023-11-14T22:13:20.500000Z',
    });
    expect(d.rule).toMatchObject({ name: 'port_scan', category: 'discovery' });
    expect(d.message).toBe('10.0.0.1 probed 40 ports on 10.0.0.2');
    expect(d.source).toEqual({ ip: '10.0.0.1' });
    expect(d.destination).toEqual({ ip: '10.0.0.2', port: 22 });
    expect(d.threat).toMatchObject({ framework: 'MITRE ATT&CK', technique: { id: 'T1046' } });
    expect(d.observer).toMatchObject({ hostname: 'sensor-1.example', product: 'tapwatch', vendor: 'tapwatch', type: 'ids' });
    expect(d.related).toEqual({ ip: ['10.0.0.1', '10.0.0.2'] });
    expect(d.tapwatch).toMatchObject({ evidence: { ports: 40, window_s: 300 }, confidence: 0.9, count: 3 });
  });
  it('maps severities to 3/5/8/10 and defaults count to 1', () => {
    const sev = (s: 'low' | 'medium' | 'high' | 'critical') => JSON.parse(formatEcs(alert({ severity: s }), ctx)).event.severity;
    expect([sev('low'), sev('medium'), sev('high'), sev('critical')]).toEqual([3, 5, 8, 10]);
    expect(JSON.parse(formatEcs(alert(), ctx)).tapwatch.count).toBe(1);
  });
  it('omits source, destination, technique and related when the alert has no addresses or technique', () => {
    const d = JSON.parse(formatEcs(alert({ src: undefined, dst: undefined, dport: undefined, technique: undefined }), ctx));
    expect(d.source).toBeUndefined();
    expect(d.destination).toBeUndefined();
    expect(d.related).toBeUndefined();
    expect(d.threat.technique).toBeUndefined();
    expect(d.threat.framework).toBe('MITRE ATT&CK');
  });
  it('dedups related.ip and keeps attacker text intact but ASCII-escaped', () => {
    const d = formatEcs(alert({ src: '10.0.0.9', dst: '10.0.0.9', summary: NASTY }), ctx);
    expect(nonPrintableAscii(d)).toBe(false);
    const o = JSON.parse(d);
    expect(o.related.ip).toEqual(['10.0.0.9']);
    expect(o.message).toBe(NASTY);
  });
});
