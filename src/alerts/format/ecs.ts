import type { Alert } from '../types.js';
import type { Transport } from '../../events/types.js';
import { alertCategory } from './category.js';
import type { FormatContext } from './context.js';
import { severityScore } from './context.js';
import { asciiJson, isoMicro } from './escape.js';
import { attackMapping } from './attack.js';

/**
 * The ECS version every document declares (`ecs.version`). The fields used
 * are checked against that version's official field list, an extract of
 * which is schemas/ecs/ecs-9.4.0-fields.csv (test/unit/format/ecs-fields.test.ts).
 */
export const ECS_VERSION = '9.4.0';

/**
 * Fields outside ECS, all under `tapwatch.` (ECS: custom fields go under a
 * name of your own, never at the top level). Their Elasticsearch types are
 * in the index template schemas/elasticsearch/tapwatch-alerts.index-template.json.
 * `tapwatch.evidence` is free-form (each detector its own keys, attacker
 * text inside) and is mapped `flattened`: one field in the mapping however
 * many keys it carries, so evidence can never explode the index mapping.
 */
export const TAPWATCH_FIELDS = {
  'tapwatch.confidence': 'float',
  'tapwatch.count': 'long',
  'tapwatch.update': 'boolean',
  'tapwatch.uid': 'keyword',
  'tapwatch.pcap': 'keyword',
  'tapwatch.evidence': 'flattened',
} as const;

/** IANA protocol keyword and number (ECS network.transport / network.iana_number) */
const IANA: Readonly<Record<Transport, readonly [string, string]>> = {
  tcp: ['tcp', '6'],
  udp: ['udp', '17'],
  icmp: ['icmp', '1'],
  icmpv6: ['ipv6-icmp', '58'],
};

/**
 * Elastic Common Schema document for one alert, one ASCII-only line.
 *
 * Mapping: @timestamp = ts (packet time); event.start/end = ts_first/ts_last;
 * event.id = the alert's stable id (an update carries the id of the alert it
 * updates; an incident record its incident id); event.severity = the CEF
 * 0–10 score (low 3, medium 5, high 8, critical 10); rule.name = kind;
 * rule.category = the ATT&CK tactic in snake case (or a guess from the kind);
 * threat.* = ATT&CK ids and names of the tactic and technique (a
 * sub-technique goes in threat.technique.subtechnique.*, its parent in
 * threat.technique.*, as Elastic's detection rules write them), absent when
 * the alert names none; source.port / network.transport / network.community_id
 * where the alert has them. ECS fields whose normalization is "array" are
 * written as arrays. Timestamps are ISO 8601 UTC with microseconds. No
 * log.level (it is the level of a log line, and event.severity already says
 * it): the smallest document must fit RFC 3164's 1024 octets with its header.
 */
export function formatEcs(alert: Alert, ctx: FormatContext): string {
  const category = alertCategory(alert);
  const related = [alert.src, alert.dst].filter((x): x is string => typeof x === 'string' && x !== '');
  const doc: Record<string, unknown> = {
    '@timestamp': isoMicro(alert.ts),
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'alert',
      category: ['network', 'intrusion_detection'],
      type: ['info'],
      severity: severityScore(alert.severity),
      module: 'tapwatch',
      dataset: alert.kind === 'incident' ? 'tapwatch.incident' : 'tapwatch.alert',
      ...(alert.id !== undefined ? { id: alert.id } : {}),
      start: isoMicro(alert.ts_first),
      end: isoMicro(alert.ts_last),
      ...(alert.update ? { action: 'update' } : {}),
    },
    rule: { name: alert.kind, category, ruleset: 'tapwatch' },
    message: alert.summary,
  };
  if (alert.src !== undefined || alert.sport !== undefined) {
    doc.source = {
      ...(alert.src !== undefined ? { ip: alert.src } : {}),
      ...(alert.sport !== undefined ? { port: alert.sport } : {}),
    };
  }
  if (alert.dst !== undefined || alert.dport !== undefined) {
    doc.destination = {
      ...(alert.dst !== undefined ? { ip: alert.dst } : {}),
      ...(alert.dport !== undefined ? { port: alert.dport } : {}),
    };
  }
  const network: Record<string, string> = {};
  if (alert.proto !== undefined && IANA[alert.proto]) {
    const [name, num] = IANA[alert.proto];
    network.transport = name;
    network.iana_number = num;
  }
  if (related.length > 0) network.type = related.some((a) => a.includes(':')) ? 'ipv6' : 'ipv4';
  if (alert.community_id !== undefined) network.community_id = alert.community_id;
  if (Object.keys(network).length > 0) doc.network = network;
  const attack = attackMapping(alert.technique);
  if (attack) {
    // no threat.*.reference: the URL follows from the id, and RFC 3164 syslog leaves a document 1024 octets
    const technique: Record<string, unknown> = {
      id: [attack.technique.id],
      ...(attack.technique.name !== undefined ? { name: [attack.technique.name] } : {}),
    };
    if (attack.subtechnique) {
      technique.subtechnique = {
        id: [attack.subtechnique.id],
        ...(attack.subtechnique.name !== undefined ? { name: [attack.subtechnique.name] } : {}),
      };
    }
    doc.threat = {
      framework: 'MITRE ATT&CK',
      ...(attack.tactic ? { tactic: { id: [attack.tactic.id], name: [attack.tactic.name] } } : {}),
      technique,
    };
  }
  doc.observer = {
    hostname: ctx.hostname,
    name: ctx.sensor,
    product: 'tapwatch',
    vendor: 'tapwatch',
    type: 'ids',
    version: ctx.version,
  };
  if (related.length > 0) doc.related = { ip: [...new Set(related)] };
  // the sensor is observer.name and the kind rule.name: not repeated here (every octet counts in RFC 3164 syslog)
  doc.tapwatch = {
    confidence: alert.confidence,
    count: alert.count ?? 1,
    ...(alert.update ? { update: true } : {}),
    ...(alert.uid !== undefined ? { uid: alert.uid } : {}),
    // pcap on alert: the file holding the alert's packets
    ...(alert.pcap !== undefined ? { pcap: alert.pcap } : {}),
    evidence: alert.evidence,
  };
  return asciiJson(doc) ?? '{}';
}
