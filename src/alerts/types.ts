/** Alerts: what detectors raise and sinks deliver. The JSON shape is schemas/alert.schema.json (test/unit/schemas checks it against this file). */
import type { Transport } from '../events/types.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface Alert {
  /**
   * stable id, set when the alert is delivered (alerts/dedup.ts): an update
   * carries the id of the alert it updates, so a SIEM can fold them
   */
  id?: string;
  /** the detector's name, e.g. "port_scan" */
  kind: string;
  severity: Severity;
  /** 0..1, how sure the detector is */
  confidence: number;
  src?: string;
  dst?: string;
  /** source port, only where one flow is the cause (the flow's client port) */
  sport?: number;
  dport?: number;
  /** transport where the detector sees only one (ssh_bruteforce: tcp, icmp_flood: icmp …), or the causing flow's */
  proto?: Transport;
  /** packet time (s since epoch) at which the alert was raised */
  ts: number;
  /** span of the evidence, packet time */
  ts_first: number;
  ts_last: number;
  /** one human line; may contain packet-derived text, escaped by every formatter */
  summary: string;
  /** counts, window, thresholds crossed, samples */
  evidence: Record<string, unknown>;
  /** where one flow is the cause: its Community ID and uid (the evidence names the last few flows of every alert) */
  community_id?: string;
  uid?: string;
  /** MITRE ATT&CK technique id where one fits */
  technique?: string;
  /** how many raw alerts were folded into this one (dedup/suppression) */
  count?: number;
  /** set on an update of an alert raised earlier for the same attack */
  update?: boolean;
  /** pcap on alert: the file (in the pcap directory, by default next to the alert file) holding the packets of its flows */
  pcap?: string;
}
