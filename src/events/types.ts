/**
 * Network events: what decode and the flow table produce and detectors consume.
 * Field names are the public JSON names (see README "Event log"), so an event
 * serialises as it is.
 */

export type Transport = 'tcp' | 'udp' | 'icmp' | 'icmpv6';

/** Packet time: the capture's own timestamp, kept at full precision. */
export interface PacketTime {
  /** seconds since the epoch as a double: what detectors compute with */
  ts: number;
  /** exact whole seconds and nanoseconds, for output at full precision */
  tsSec: number;
  tsNsec: number;
  /** 6 for microsecond captures, 9 for nanosecond ones */
  tsDigits: 6 | 9;
}

export interface EventBase extends PacketTime {
  type: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto: Transport;
  /** bytes: the packet's wire length for packet events; payload bytes for messages; total for conn */
  size: number;
  /** the flow's Zeek-style uid (TCP/UDP flows; not ICMP, which tapwatch does not track as flows) */
  uid?: string;
  /** Community ID v1 of the flow (ICMP: of the message's type/code pair) */
  community_id?: string;
}

export interface TcpSynEvent extends EventBase { type: 'tcp_syn'; proto: 'tcp'; }

/** Zeek-style connection states (see src/flows/conn-state.ts). */
export type ConnState = 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

/** A TCP attempt's first outcome: handshake completed, refused by RST, or no answer before timeout. */
export interface ConnOutcomeEvent extends EventBase {
  type: 'conn_established' | 'conn_rejected' | 'conn_unanswered';
}

/** Summary of a finished (or timed-out / evicted) flow, in the spirit of Zeek's conn.log. */
export interface ConnEvent extends EventBase {
  type: 'conn';
  duration: number;
  orig_bytes: number;
  resp_bytes: number;
  orig_pkts: number;
  resp_pkts: number;
  conn_state: ConnState;
  /** Zeek-like history letters: S h A D a d F f R r (orig upper case) */
  history: string;
  /** TCP payload bytes never captured, both ways (holes in sequence space, snap-length cuts): Zeek's missed_bytes */
  missed_bytes: number;
  /** why the summary was written: 'closed' | 'timeout' | 'evicted' | 'end' */
  reason: 'closed' | 'timeout' | 'evicted' | 'end';
  /** payload bytes of this flow already reported by its conn_progress events (present only if it had some) */
  reported_orig_bytes?: number;
  reported_resp_bytes?: number;
  /**
   * the application protocols recognised on the flow, comma-separated in the
   * fixed order dns, http, ssh, tls (e.g. "http,tls" for a CONNECT tunnel);
   * absent when none was (Zeek's conn.log `service`, with "tls" for its "ssl")
   */
  service?: string;
  /** originator / responder inside HOME_NET (Zeek's local_orig/local_resp); absent when no HOME_NET is configured */
  local_orig?: boolean;
  local_resp?: boolean;
}

/**
 * A long-lived flow's counters so far, written while it runs (every
 * `flows.progress.interval` seconds of packet time with new payload, or every
 * `flows.progress.bytes` of payload), so volume rules judge a transfer before
 * it ends. `ts` is the packet time of the report (not the flow's start, as in
 * `conn`); `duration` is the time since the flow's first packet.
 */
export interface ConnProgressEvent extends EventBase {
  type: 'conn_progress';
  proto: 'tcp' | 'udp';
  duration: number;
  orig_bytes: number;
  resp_bytes: number;
  orig_pkts: number;
  resp_pkts: number;
  /** payload bytes each way since the flow's previous report */
  orig_bytes_delta: number;
  resp_bytes_delta: number;
}

export interface IcmpEvent extends EventBase {
  type: 'icmp';
  proto: 'icmp' | 'icmpv6';
  icmp_type: number;
  icmp_code: number;
  /** For errors (unreachable, time exceeded): the quoted packet's tuple. */
  quoted?: { proto: Transport; src: string; sport: number; dst: string; dport: number };
  /**
   * Echo request/reply only (v4 8/0, v6 128/129): what the data carries, for
   * the ICMP-tunnel detector. payload_len: data bytes on the wire (after the
   * 8-byte header). payload_entropy: Shannon entropy of the captured data
   * bytes (bits per byte, 0..8; absent below 16 captured bytes).
   * payload_digest: 32-bit hash of the captured data after its first 16
   * bytes (where ping keeps its send time), so a ping repeating its pattern
   * keeps one digest and a tunnel's changing contents do not.
   */
  payload_len?: number;
  payload_entropy?: number;
  payload_digest?: number;
}

export interface DnsAnswer { name: string; type: string; ttl: number; data: string | null }

export interface DnsEvent extends EventBase {
  type: 'dns';
  proto: 'tcp' | 'udp';
  id: number;
  is_response: boolean;
  opcode: number;
  qname: string;
  qtype: string;
  rcode: string;
  qdcount: number;
  ancount: number;
  answers: DnsAnswer[];
  truncated: boolean;
  /**
   * responses paired with their query (same id, same flow: flows/transactions.ts):
   * seconds from the packet that completed the query to the one that completed
   * this response (Zeek's dns.log `rtt`, Wireshark's `dns.time`; over TCP a
   * message may span segments), and the query event's `ts` (Zeek's dns.log `ts`).
   * Absent on queries and on responses whose query was not seen.
   */
  rtt?: number;
  query_ts?: number;
  /** query_ts exactly (whole seconds, nanoseconds), for output at full precision; not written themselves */
  queryTsSec?: number;
  queryTsNsec?: number;
}

export interface HttpRequestEvent extends EventBase {
  type: 'http_request';
  proto: 'tcp';
  method: string;
  host: string | null;
  uri: string;
  version: string;
  user_agent: string | null;
  /** position of the request on its connection, from 1 (Zeek's http.log trans_depth) */
  trans_depth: number;
}

export interface HttpResponseEvent extends EventBase {
  type: 'http_response';
  proto: 'tcp';
  status: number;
  version: string;
  reason_phrase: string;
  /** Content-Length when present */
  length: number | null;
  /**
   * the request this response answers, by order on the connection (pipelining
   * included; flows/transactions.ts): its trans_depth, method and uri. All
   * absent when no request was outstanding; method and uri absent when the
   * request was past the pairing cap.
   */
  trans_depth?: number;
  method?: string;
  uri?: string;
}

export interface SshBannerEvent extends EventBase {
  type: 'ssh_banner';
  proto: 'tcp';
  banner: string;
  /** which side sent it */
  role: 'client' | 'server';
}

/** One inferred authentication attempt (from encrypted packet sizes, as Zeek does). */
export interface SshAuthEvent extends EventBase {
  type: 'ssh_auth';
  proto: 'tcp';
  auth: 'success' | 'failure' | 'unknown';
  /** attempts seen so far on this connection */
  attempt: number;
  client_banner: string | null;
  server_banner: string | null;
}

export type NetEvent =
  | TcpSynEvent
  | ConnOutcomeEvent
  | ConnEvent
  | ConnProgressEvent
  | IcmpEvent
  | DnsEvent
  | HttpRequestEvent
  | HttpResponseEvent
  | SshBannerEvent
  | SshAuthEvent
  | TlsClientHelloEvent;

export type EventType = NetEvent['type'];

/** Every event type (for routing tables); tsc fails here when a type is added to NetEvent but not to this list. */
export const EVENT_TYPES = [
  'tcp_syn', 'conn_established', 'conn_rejected', 'conn_unanswered', 'conn', 'conn_progress', 'icmp', 'dns',
  'http_request', 'http_response', 'ssh_banner', 'ssh_auth', 'tls_client_hello',
] as const satisfies readonly EventType[];
const everyEventTypeListed: Exclude<EventType, (typeof EVENT_TYPES)[number]> extends never ? true : never = true;
void everyEventTypeListed;
const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The configured names (a detector's `types` setting) that are event types. */
export function eventTypes(names: readonly string[]): EventType[] {
  return names.filter((n): n is EventType => EVENT_TYPE_SET.has(n));
}

/**
 * A TLS ClientHello: the client's first message, the last cleartext word on
 * where it is going (what threat intelligence matches server names against).
 */
export interface TlsClientHelloEvent extends EventBase {
  type: 'tls_client_hello';
  proto: 'tcp';
  /** server_name (SNI) host name, made safe (decode/text.ts); null when the hello has none */
  sni: string | null;
  /** the client's preferred version (supported_versions, else the hello's version), Zeek's names: TLSv10 … TLSv13 */
  version: string;
  /** ALPN protocol names offered, in order (e.g. ["h2", "http/1.1"]); empty when none */
  alpn: string[];
}
