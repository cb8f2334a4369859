/**
 * Every field an ECS document carries is a field of the ECS version it
 * declares (the official list's extract in schemas/ecs/), with a value of
 * that field's type; every ATT&CK id a detector names is in the ATT&CK table
 * with its name and tactic; the Elasticsearch index template maps every
 * field we can emit with ECS's type and keeps evidence flattened.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { formatEcs, ECS_VERSION, TAPWATCH_FIELDS } from '../../../src/alerts/format/ecs.js';
import { TECHNIQUES, attackMapping } from '../../../src/alerts/format/attack.js';
import { ecsProblems, leafFields, loadEcsFields } from '../../helpers/ecs.js';
import { alert, ctx, NASTY } from './fixtures.js';
import type { Alert } from '../../../src/alerts/types.js';

const fields = loadEcsFields();

/** alerts that between them reach every branch of formatEcs */
const VARIANTS: Alert[] = [
  alert(),
  alert({ id: 'Aabc', sport: 1234, proto: 'tcp', community_id: '1:RTJLueY61P9fUGg+UQhYfUgCagU=', uid: 'CJy3Gu1D226h05YyYr3', update: true, count: 4, pcap: 'alert-Aabc.pcap' }),
  alert({ kind: 'syn_flood', src: undefined, technique: 'T1499.001', proto: 'tcp' }),
  alert({ kind: 'icmp_flood', src: 'fd00::1', dst: 'fd00::2', dport: undefined, proto: 'icmpv6', technique: 'T1498.001' }),
  alert({ kind: 'udp', proto: 'udp', technique: 'T9999.001' }),
  alert({ kind: 'icmp', proto: 'icmp', technique: undefined, summary: NASTY, evidence: { deep: { a: [1, { b: NASTY }] }, 'dotted.key': 1 } }),
  alert({ kind: 'incident', id: 'inc-0123456789abcdef', technique: undefined, src: undefined, dst: undefined, dport: undefined }),
];

describe('ECS field list', () => {
  it(`is the ECS ${ECS_VERSION} extract, with its source named`, () => {
    const head = readFileSync(new URL(`../../../schemas/ecs/ecs-${ECS_VERSION}-fields.csv`, import.meta.url), 'utf8').split('\n').slice(0, 3).join('\n');
    expect(head).toContain(`github.com/elastic/ecs/blob/v${ECS_VERSION}/generated/csv/fields.csv`);
    expect(fields.get('threat.technique.id')).toMatchObject({ type: 'keyword', normalization: ['array'] });
    expect(fields.get('source.port')?.type).toBe('long');
  });
  it('every field of every document variant is ECS (or tapwatch.*) with a fitting value', () => {
    const seen = new Set<string>();
    for (const a of VARIANTS) {
      const doc = JSON.parse(formatEcs(a, ctx)) as Record<string, unknown>;
      expect(doc['ecs']).toEqual({ version: ECS_VERSION });
      expect(ecsProblems(doc, fields), JSON.stringify(doc)).toEqual([]);
      for (const [n] of leafFields(doc, new Set(['tapwatch.evidence']))) seen.add(n);
    }
    // the variants do reach the fields the brief names
    for (const f of ['ecs.version', 'event.id', 'event.start', 'event.end', 'source.port', 'network.transport', 'network.community_id',
      'threat.framework', 'threat.tactic.id', 'threat.tactic.name', 'threat.technique.id', 'threat.technique.name', 'threat.technique.subtechnique.id', 'tapwatch.evidence']) {
      expect(seen, f).toContain(f);
    }
  });
  it('the checker itself rejects a made-up field, a wrong type and a scalar where ECS wants an array', () => {
    const doc = JSON.parse(formatEcs(alert(), ctx)) as Record<string, any>;
    doc.source.address_family = 'inet';
    doc.destination.port = '22';
    doc.threat.technique.id = 'T1046';
    doc.extra = 1;
    const p = ecsProblems(doc, fields);
    expect(p.some((x) => x.startsWith('source.address_family: not an ECS'))).toBe(true);
    expect(p.some((x) => x.startsWith('destination.port: "22" does not fit'))).toBe(true);
    expect(p.some((x) => x.startsWith('threat.technique.id: ECS normalization is array'))).toBe(true);
    expect(p.some((x) => x.startsWith('extra: not an ECS'))).toBe(true);
  });
});

describe('ATT&CK mapping', () => {
  it('every technique a detector names is in the table with a name and a tactic', () => {
    const dir = new URL('../../../src/detect/', import.meta.url);
    const ids = new Set<string>();
    for (const f of readdirSync(dir)) {
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/technique: (?:[^,]*\? )?'(T\d{4}(?:\.\d{3})?)'(?: : '(T\d{4}(?:\.\d{3})?)')?/g)) {
        ids.add(m[1]!);
        if (m[2]) ids.add(m[2]);
      }
    }
    expect(ids.size).toBeGreaterThanOrEqual(10);
    for (const id of ids) {
      const t = TECHNIQUES[id];
      expect(t, id).toBeDefined();
      const map = attackMapping(id)!;
      expect(map.tactic, id).toBeDefined();
      if (id.includes('.')) expect(TECHNIQUES[id.split('.')[0]!], `parent of ${id}`).toBeDefined();
    }
  });
  it('uses ATT&CK ids and names (spot checks against attack.mitre.org)', () => {
    const name = (id: string) => [TECHNIQUES[id]!.name, TECHNIQUES[id]!.tactic.id, TECHNIQUES[id]!.tactic.name];
    expect(name('T1046')).toEqual(['Network Service Discovery', 'TA0007', 'Discovery']);
    expect(name('T1018')).toEqual(['Remote System Discovery', 'TA0007', 'Discovery']);
    expect(name('T1110')).toEqual(['Brute Force', 'TA0006', 'Credential Access']);
    expect(name('T1110.001')).toEqual(['Password Guessing', 'TA0006', 'Credential Access']);
    expect(name('T1498')).toEqual(['Network Denial of Service', 'TA0040', 'Impact']);
    expect(name('T1498.001')).toEqual(['Direct Network Flood', 'TA0040', 'Impact']);
    expect(name('T1499.001')).toEqual(['OS Exhaustion Flood', 'TA0040', 'Impact']);
    expect(name('T1071')).toEqual(['Application Layer Protocol', 'TA0011', 'Command and Control']);
    expect(name('T1071.004')).toEqual(['DNS', 'TA0011', 'Command and Control']);
    expect(name('T1568.002')).toEqual(['Domain Generation Algorithms', 'TA0011', 'Command and Control']);
    expect(name('T1048')).toEqual(['Exfiltration Over Alternative Protocol', 'TA0010', 'Exfiltration']);
    expect(name('T1595')).toEqual(['Active Scanning', 'TA0043', 'Reconnaissance']);
    expect(name('T1595.003')).toEqual(['Wordlist Scanning', 'TA0043', 'Reconnaissance']);
  });
});

describe('Elasticsearch index template', () => {
  const tpl = JSON.parse(readFileSync(new URL('../../../schemas/elasticsearch/tapwatch-alerts.index-template.json', import.meta.url), 'utf8'));
  const mapped = new Map<string, Record<string, unknown>>();
  const walk = (props: Record<string, any>, prefix: string): void => {
    for (const [k, v] of Object.entries(props)) {
      if (v.properties) walk(v.properties, prefix + k + '.');
      else mapped.set(prefix + k, v);
    }
  };
  walk(tpl.template.mappings.properties, '');
  it('is a composable template body (only keys the _index_template API takes)', () => {
    const allowed = ['index_patterns', 'template', 'composed_of', 'priority', 'version', '_meta', 'data_stream', 'allow_auto_create', 'ignore_missing_component_templates', 'deprecated'];
    for (const k of Object.keys(tpl)) expect(allowed, k).toContain(k);
    expect(tpl._meta.ecs_version).toBe(ECS_VERSION);
  });
  it('maps every ECS field we use with its ECS type and every tapwatch field as declared; evidence is flattened', () => {
    for (const [name, f] of fields) expect(mapped.get(name)?.type, name).toBe(f.type);
    for (const [name, t] of Object.entries(TAPWATCH_FIELDS)) expect(mapped.get(name)?.type, name).toBe(t);
    expect(mapped.get('tapwatch.evidence')?.type).toBe('flattened');
    expect(tpl.template.mappings.dynamic).toBe(false);
  });
  it('covers every field the variants emit', () => {
    for (const a of VARIANTS) {
      for (const [n] of leafFields(JSON.parse(formatEcs(a, ctx)), new Set(['tapwatch.evidence']))) expect(mapped.has(n), n).toBe(true);
    }
  });
});
