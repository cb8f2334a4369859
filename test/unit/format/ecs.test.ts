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
    expect(d.ecs).toEqual({ version: '9.4.0' });
    expect(d.threat).toEqual({
      framework: 'MITRE ATT&CK',
      tactic: { id: ['TA0007'], name: ['Discovery'] },
      technique: { id: ['T1046'], name: ['Network Service Discovery'] },
    });
    expect(d.observer).toMatchObject({ hostname: 'sensor-1.example', product: 'tapwatch', vendor: 'tapwatch', type: 'ids' });
    expect(d.related).toEqual({ ip: ['10.0.0.1', '10.0.0.2'] });
    expect(d.tapwatch).toMatchObject({ evidence: { ports: 40, window_s: 300 }, confidence: 0.9, count: 3 });
  });
  it('maps severities to 3/5/8/10 and defaults count to 1', () => {
    const sev = (s: 'low' | 'medium' | 'high' | 'critical') => JSON.parse(formatEcs(alert({ severity: s }), ctx)).event.severity;
    expect([sev('low'), sev('medium'), sev('high'), sev('critical')]).toEqual([3, 5, 8, 10]);
    expect(JSON.parse(formatEcs(alert(), ctx)).tapwatch.count).toBe(1);
  });
  it('omits source, destination, network, threat and related when the alert has no addresses or technique', () => {
    const d = JSON.parse(formatEcs(alert({ src: undefined, dst: undefined, dport: undefined, technique: undefined }), ctx));
    expect(d.source).toBeUndefined();
    expect(d.destination).toBeUndefined();
    expect(d.related).toBeUndefined();
    expect(d.network).toBeUndefined();
    // no invented tactic: an alert without a technique has no threat.* at all
    expect(d.threat).toBeUndefined();
    expect(d.rule.category).toBe('reconnaissance');
    expect(d.ecs.version).toBe('9.4.0');
  });
  it('puts a sub-technique under threat.technique.subtechnique and its parent in threat.technique (Elastic rule style)', () => {
    const d = JSON.parse(formatEcs(alert({ kind: 'syn_flood', technique: 'T1499.001' }), ctx));
    expect(d.threat.tactic).toMatchObject({ id: ['TA0040'], name: ['Impact'] });
    expect(d.threat.technique).toMatchObject({ id: ['T1499'], name: ['Endpoint Denial of Service'] });
    expect(d.threat.technique.subtechnique).toEqual({
      id: ['T1499.001'], name: ['OS Exhaustion Flood'],
    });
    expect(d.rule.category).toBe('impact');
  });
  it('passes an unknown technique id through without inventing a name or tactic', () => {
    const d = JSON.parse(formatEcs(alert({ technique: 'T9999.123' }), ctx));
    expect(d.threat.technique).toMatchObject({ id: ['T9999'], subtechnique: { id: ['T9999.123'] } });
    expect(d.threat.technique.name).toBeUndefined();
    expect(d.threat.tactic).toBeUndefined();
  });
  it('writes event.id, source.port, network.transport/iana_number/community_id and tapwatch.uid from the alert', () => {
    const d = JSON.parse(formatEcs(alert({
      id: 'Aabc123', sport: 40000, proto: 'tcp', community_id: '1:RTJLueY61P9fUGg+UQhYfUgCagU=', uid: 'CJy3Gu1D226h05YyYr3', update: true,
    }), ctx));
    expect(d.event).toMatchObject({ id: 'Aabc123', action: 'update', start: '2023-11-14T22:13:10.000001Z', end: '2023-11-14T22:13:20.500000Z' });
    expect(d.source).toEqual({ ip: '10.0.0.1', port: 40000 });
    expect(d.network).toEqual({ transport: 'tcp', iana_number: '6', type: 'ipv4', community_id: '1:RTJLueY61P9fUGg+UQhYfUgCagU=' });
    expect(d.tapwatch).toMatchObject({ uid: 'CJy3Gu1D226h05YyYr3', update: true });
  });
  it('names ICMPv6 by its IANA keyword and marks IPv6 traffic', () => {
    const d = JSON.parse(formatEcs(alert({ kind: 'icmp_flood', src: 'fd00::1', dst: 'fd00::2', dport: undefined, proto: 'icmpv6', technique: 'T1498.001' }), ctx));
    expect(d.network).toEqual({ transport: 'ipv6-icmp', iana_number: '58', type: 'ipv6' });
    expect(d.source).toEqual({ ip: 'fd00::1' });
  });
  it('tells incident records apart by event.dataset and carries their id', () => {
    const d = JSON.parse(formatEcs(alert({ kind: 'incident', id: 'inc-0123456789abcdef', technique: undefined }), ctx));
    expect(d.event).toMatchObject({ dataset: 'tapwatch.incident', id: 'inc-0123456789abcdef' });
  });
  it('dedups related.ip and keeps attacker text intact but ASCII-escaped', () => {
    const d = formatEcs(alert({ src: '10.0.0.9', dst: '10.0.0.9', summary: NASTY }), ctx);
    expect(nonPrintableAscii(d)).toBe(false);
    const o = JSON.parse(d);
    expect(o.related.ip).toEqual(['10.0.0.9']);
    expect(o.message).toBe(NASTY);
  });
});
