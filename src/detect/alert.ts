/** Building alerts the same way in every detector. */
import type { Alert, Severity } from '../alerts/types.js';
import type { Transport } from '../events/types.js';

export function makeAlert(a: {
  kind: string; severity: Severity; confidence: number; ts: number; ts_first: number; ts_last: number;
  summary: string; evidence: Record<string, unknown>; src?: string; dst?: string; dport?: number; technique?: string;
  /** the transport, when the detector watches only one (a flow's own wins) */
  proto?: Transport;
  /** the one flow behind the alert, when there is one (its event's uid, community_id, source port and transport) */
  flow?: { uid?: string | undefined; community_id?: string | undefined; sport?: number | undefined; proto?: Transport | undefined };
}): Alert {
  const out: Alert = {
    kind: a.kind, severity: a.severity, confidence: Math.round(a.confidence * 100) / 100,
    ts: a.ts, ts_first: a.ts_first, ts_last: a.ts_last, summary: a.summary, evidence: a.evidence,
  };
  if (a.src !== undefined) out.src = a.src;
  if (a.dst !== undefined) out.dst = a.dst;
  if (a.flow?.sport !== undefined) out.sport = a.flow.sport;
  if (a.dport !== undefined) out.dport = a.dport;
  const proto = a.flow?.proto ?? a.proto;
  if (proto !== undefined) out.proto = proto;
  if (a.technique !== undefined) out.technique = a.technique;
  if (a.flow?.community_id !== undefined) out.community_id = a.flow.community_id;
  if (a.flow?.uid !== undefined) out.uid = a.flow.uid;
  return out;
}

/** Event types that describe traffic as it happens (not derived per-flow summaries). */
export const PRIMARY_EVENT_TYPES = ['tcp_syn', 'icmp', 'dns', 'http_request', 'http_response', 'ssh_banner', 'ssh_auth'] as const;
