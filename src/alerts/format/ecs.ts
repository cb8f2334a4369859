import type { Alert } from '../types.js';
import { alertCategory } from './category.js';
import type { FormatContext } from './context.js';
import { severityScore } from './context.js';
import { asciiJson, isoMicro } from './escape.js';

/**
 * Elastic Common Schema (ECS 8.x) document for one alert, one ASCII-only line.
 *
 * Mapping: @timestamp = ts (packet time); event.start/end = ts_first/ts_last;
 * event.severity = the CEF 0–10 score (low 3, medium 5, high 8, critical 10);
 * rule.name = kind; rule.category / threat.tactic.name from the ATT&CK
 * technique (or the kind); tapwatch.* keeps what ECS has no field for.
 * Timestamps are ISO 8601 UTC with microseconds (ECS date / date_nanos).
 */
export function formatEcs(alert: Alert, ctx: FormatContext): string {
  const category = alertCategory(alert);
  const related = [alert.src, alert.dst].filter((x): x is string => typeof x === 'string' && x !== '');
  const doc: Record<string, unknown> = {
    '@timestamp': isoMicro(alert.ts),
    event: {
      kind: 'alert',
      category: ['network', 'intrusion_detection'],
      type: ['info'],
      severity: severityScore(alert.severity),
      module: 'tapwatch',
      dataset: 'tapwatch.alert',
      start: isoMicro(alert.ts_first),
      end: isoMicro(alert.ts_last),
      ...(alert.update ? { action: 'update' } : {}),
    },
    rule: { name: alert.kind, category, ruleset: 'tapwatch' },
    message: alert.summary,
    log: { level: alert.severity },
  };
  if (alert.src !== undefined) doc.source = { ip: alert.src };
  if (alert.dst !== undefined || alert.dport !== undefined) {
    doc.destination = {
      ...(alert.dst !== undefined ? { ip: alert.dst } : {}),
      ...(alert.dport !== undefined ? { port: alert.dport } : {}),
    };
  }
  doc.threat = {
    framework: 'MITRE ATT&CK',
    ...(alert.technique ? { technique: { id: alert.technique } } : {}),
    tactic: { name: category },
  };
  doc.observer = {
    hostname: ctx.hostname,
    name: ctx.sensor,
    product: 'tapwatch',
    vendor: 'tapwatch',
    type: 'ids',
    version: ctx.version,
  };
  if (related.length > 0) doc.related = { ip: [...new Set(related)] };
  doc.tapwatch = {
    sensor: ctx.sensor,
    confidence: alert.confidence,
    count: alert.count ?? 1,
    ...(alert.update ? { update: true } : {}),
    evidence: alert.evidence,
  };
  return asciiJson(doc) ?? '{}';
}
