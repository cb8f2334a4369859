/**
 * Smaller versions of an alert, for transports with a size limit (RFC 3164
 * syslog: 1024 octets). A JSON document cut at a byte limit is no document
 * at all, so the sink tries these in order and sends the first that fits:
 * evidence goes first (lists cut to a few samples, long strings cut, then
 * only the numbers, then none), the summary next, the ATT&CK technique last. Each carries
 * `evidence.shortened: true` so a reader knows the full alert is elsewhere
 * (the alert file keeps it whole).
 */
import type { Alert } from './types.js';

const cutStr = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}...` : s);

function trimValue(v: unknown): unknown {
  if (typeof v === 'string') return cutStr(v, 64);
  if (Array.isArray(v)) return v.slice(0, 3).map(trimValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).slice(0, 8).map(([k, x]) => [k, trimValue(x)]));
  return v;
}

export function* shrinkSteps(a: Alert): Generator<Alert> {
  const ev = a.evidence as Record<string, unknown>;
  const marked = (e: Record<string, unknown>): Record<string, unknown> => ({ ...e, shortened: true });
  yield { ...a, evidence: marked(Object.fromEntries(Object.entries(ev).map(([k, v]) => [k, trimValue(v)]))) };
  yield { ...a, evidence: marked(Object.fromEntries(Object.entries(ev).filter(([, v]) => typeof v === 'number' || typeof v === 'boolean'))) };
  yield { ...a, evidence: marked({}), summary: cutStr(a.summary, 200) };
  yield { ...a, evidence: marked({}), summary: cutStr(a.summary, 60) };
  // last resort: no technique (in ECS that is the whole threat.* object; rule.category keeps the tactic)
  if (a.technique !== undefined) {
    const { technique: _t, ...rest } = a;
    yield { ...rest, evidence: marked({}), summary: cutStr(a.summary, 60) };
  }
}
