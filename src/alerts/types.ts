/** Alerts: what detectors raise and sinks deliver. */

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface Alert {
  /** the detector's name, e.g. "port_scan" */
  kind: string;
  severity: Severity;
  /** 0..1, how sure the detector is */
  confidence: number;
  src?: string;
  dst?: string;
  dport?: number;
  /** packet time (s since epoch) at which the alert was raised */
  ts: number;
  /** span of the evidence, packet time */
  ts_first: number;
  ts_last: number;
  /** one human line; may contain packet-derived text, escaped by every formatter */
  summary: string;
  /** counts, window, thresholds crossed, samples */
  evidence: Record<string, unknown>;
  /** MITRE ATT&CK technique id where one fits */
  technique?: string;
  /** how many raw alerts were folded into this one (dedup/suppression) */
  count?: number;
  /** set on an update of an alert raised earlier for the same attack */
  update?: boolean;
}
