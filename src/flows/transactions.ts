/**
 * Transactions: a DNS response paired with its query, an HTTP response with
 * its request, so each answer carries what was asked (Zeek's dns.log and
 * http.log write one line per pair; tapwatch writes one event per message
 * and puts the pair's fields on the answer).
 *
 * DNS (as Zeek's base/protocols/dns/main.zeek and Wireshark's DNS dissector):
 * a response answers the query with the same id on the same flow (the flow is
 * the address/port pair, so the tuple matches too); direction is not checked,
 * as neither tool checks it (an mDNS host may answer its own multicast
 * query on the same flow). A query repeated with the id of a query still
 * waiting, within 5 s of it, is a retransmission: the answer is timed from the
 * first one (Wireshark's `dns.time`, its `dns.retransmission_timer` default
 * of 5 s; Zeek queues both and times the answer from the first as well).
 * Later than that it starts a new transaction, and the old query is counted
 * unanswered (Wireshark: the new one shadows it). A later response with the id of the flow's last
 * answered query (AXFR over TCP: one message per chunk; a duplicate answer)
 * is timed from that query too, as Wireshark does (Zeek logs it unpaired).
 *
 * State is bounded: at most `perFlow` queries wait per flow (Zeek:
 * max_pending_msgs 50 per id, max_pending_query_ids 50 ids per connection)
 * and `total` over all flows (Zeek has no global cap; its connection table
 * bounds it); past a cap the oldest waiting query is dropped and counted.
 * Time is packet time only: rtt is the response's packet time minus the
 * query's, computed from the exact seconds and nanoseconds.
 *
 * HTTP (RFC 9112 §9.3: responses come in the order of the requests): the
 * n-th final response on a connection answers the n-th request still
 * unanswered (pipelining included); an interim 1xx response belongs to the
 * oldest unanswered request without consuming it. A response with no request
 * outstanding (a capture that starts mid-connection, a request lost to a
 * gap) is unpaired and does not move the count, so the next request still
 * pairs with the next response.
 */
import type { PacketTime } from '../events/types.js';

/** What pairing could not do, per tracker (reported in the summary's `transactions`). */
export interface TxStats {
  /** DNS queries seen (retransmissions not counted again) */
  dns_queries: number;
  /** responses paired with a waiting query */
  dns_answered: number;
  /** later responses timed from an already answered query (AXFR chunks, duplicate answers) */
  dns_repeat_responses: number;
  /** responses with no query seen on their flow: no rtt */
  dns_unmatched_responses: number;
  /** queries sent again, within 5 s, with the id of a query still waiting */
  dns_retransmits: number;
  /** queries still waiting when their flow ended (timeout, close, end of input, table eviction), or whose id a query more than 5 s later took */
  dns_unanswered: number;
  /** waiting queries dropped by the per-flow cap (oldest first) */
  dns_evicted_flow_cap: number;
  /** waiting queries dropped by the total cap (oldest over all flows) */
  dns_evicted_total_cap: number;
  /** HTTP final responses paired with their request's method and uri */
  http_answered: number;
  /** HTTP responses with no request outstanding: no method/uri */
  http_unmatched_responses: number;
  /** requests not kept for pairing because a connection already had its cap of unanswered requests (their responses go unpaired) */
  http_pipeline_overflow: number;
}

export function newTxStats(): TxStats {
  return {
    dns_queries: 0, dns_answered: 0, dns_repeat_responses: 0, dns_unmatched_responses: 0, dns_retransmits: 0,
    dns_unanswered: 0, dns_evicted_flow_cap: 0, dns_evicted_total_cap: 0, http_answered: 0, http_unmatched_responses: 0, http_pipeline_overflow: 0,
  };
}

// --- DNS -------------------------------------------------------------------

export interface DnsTxLimits {
  /** queries waiting per flow (Zeek: max_pending_msgs = max_pending_query_ids = 50) */
  perFlow: number;
  /** queries waiting over all flows */
  total: number;
}

export const DNS_TX_DEFAULTS: DnsTxLimits = { perFlow: 50, total: 65536 };

/** A query with a waiting query's id is its retransmission within this many seconds (Wireshark's dns.retransmission_timer) */
export const DNS_RETRANSMIT_WINDOW = 5;

/**
 * A query waiting for its answer: its id, its event's time (`t`: the first
 * segment of the message) and the exact time it was complete (`doneSec`,
 * `doneNsec`: rtt starts there), linked in the age list of all waiting queries.
 */
export class DnsQuery {
  prev: DnsQuery | null = null;
  next: DnsQuery | null = null;
  constructor(readonly id: number, readonly t: PacketTime, readonly doneSec: number, readonly doneNsec: number, readonly owner: DnsPending) {}
}

/** One flow's DNS transactions: the queries waiting (oldest first) and the last one answered. */
export class DnsPending {
  readonly waiting: DnsQuery[] = [];
  answered: DnsQuery | null = null;
}

/** A response's pairing: seconds since the query was complete (exact to the nanosecond), and the query event's time. */
export interface DnsPair {
  rtt: number;
  query: PacketTime;
}

export class DnsTransactions {
  /** oldest and newest waiting query over all flows */
  private head: DnsQuery | null = null;
  private tail: DnsQuery | null = null;
  /** queries waiting over all flows */
  size = 0;
  private readonly limits: DnsTxLimits;

  constructor(readonly stats: TxStats = newTxStats(), limits: Partial<DnsTxLimits> = {}) {
    this.limits = { ...DNS_TX_DEFAULTS, ...limits };
  }

  /** A query on the flow whose state is `p`: its event's time, and when it was complete (the same over UDP). */
  query(p: DnsPending, id: number, t: PacketTime, done: PacketTime = t): void {
    const w = p.waiting;
    for (let i = 0; i < w.length; i++) {
      const old = w[i]!;
      if (old.id !== id) continue;
      if ((t.tsSec - old.t.tsSec) + (t.tsNsec - old.t.tsNsec) / 1e9 <= DNS_RETRANSMIT_WINDOW) { this.stats.dns_retransmits++; return; }
      // too late for a retransmission: a new transaction with a reused id; the old query was never answered
      w.splice(i, 1);
      this.unlink(old);
      this.stats.dns_unanswered++;
      break;
    }
    this.stats.dns_queries++;
    // a new query with the last answered id starts a new transaction: later answers belong to it
    if (p.answered !== null && p.answered.id === id) p.answered = null;
    if (w.length >= this.limits.perFlow) {
      this.unlink(w.shift()!);
      this.stats.dns_evicted_flow_cap++;
    }
    if (this.size >= this.limits.total && this.head !== null) {
      const old = this.head;
      this.unlink(old);
      const ow = old.owner.waiting;
      ow.splice(ow.indexOf(old), 1);
      this.stats.dns_evicted_total_cap++;
    }
    const q = new DnsQuery(id, { ts: t.ts, tsSec: t.tsSec, tsNsec: t.tsNsec, tsDigits: t.tsDigits }, done.tsSec, done.tsNsec, p);
    w.push(q);
    q.prev = this.tail;
    if (this.tail !== null) this.tail.next = q; else this.head = q;
    this.tail = q;
    this.size++;
  }

  /**
   * A response on the flow whose state is `p` (null: the flow never carried a
   * query), `t` the time it was complete: its pairing, or null (counted).
   */
  response(p: DnsPending | null, id: number, t: PacketTime): DnsPair | null {
    if (p !== null) {
      const w = p.waiting;
      for (let i = 0; i < w.length; i++) {
        const q = w[i]!;
        if (q.id !== id) continue;
        w.splice(i, 1);
        this.unlink(q);
        p.answered = q;
        this.stats.dns_answered++;
        return pair(q, t);
      }
      if (p.answered !== null && p.answered.id === id) {
        this.stats.dns_repeat_responses++;
        return pair(p.answered, t);
      }
    }
    this.stats.dns_unmatched_responses++;
    return null;
  }

  /** The flow ended: what still waits is unanswered. */
  close(p: DnsPending): void {
    const w = p.waiting;
    this.stats.dns_unanswered += w.length;
    for (const q of w) this.unlink(q);
    w.length = 0;
    p.answered = null;
  }

  private unlink(q: DnsQuery): void {
    if (q.prev !== null) q.prev.next = q.next; else this.head = q.next;
    if (q.next !== null) q.next.prev = q.prev; else this.tail = q.prev;
    q.prev = q.next = null;
    this.size--;
  }
}

/** rtt from the exact times (no rounding of two large doubles): whole nanoseconds, then seconds. */
function pair(q: DnsQuery, t: PacketTime): DnsPair {
  const ns = (t.tsSec - q.doneSec) * 1e9 + (t.tsNsec - q.doneNsec);
  return { rtt: ns / 1e9, query: q.t };
}

// --- HTTP ------------------------------------------------------------------

/** Unanswered requests kept per connection for pairing (pipelining depth; Suricata's request queue is unbounded, Zeek's too). */
export const MAX_PIPELINED = 64;
/** URI characters kept per connection for pairing: a pipeline of huge URIs never answered cannot hold more */
export const MAX_PIPELINED_URI_CHARS = 64 * 1024;

export interface HttpPendingRequest {
  /** position of the request on its connection, from 1 (Zeek's trans_depth) */
  depth: number;
  method: string;
  uri: string;
}

/** One connection's requests waiting for their responses, in order. */
export class HttpPairing {
  private readonly q: HttpPendingRequest[] = [];
  private uriChars = 0;
  /** requests seen (the last one's depth) */
  requests = 0;
  /** final responses paired so far: the next one answers request answered + 1 */
  private answered = 0;

  constructor(readonly stats: TxStats = newTxStats()) {}

  /** A request: its depth. Kept for pairing unless the connection has its cap of unanswered requests (counted). */
  request(method: string, uri: string): number {
    const depth = ++this.requests;
    if (this.q.length < MAX_PIPELINED && this.uriChars + uri.length <= MAX_PIPELINED_URI_CHARS) {
      this.q.push({ depth, method, uri });
      this.uriChars += uri.length;
    } else {
      this.stats.http_pipeline_overflow++;
    }
    return depth;
  }

  /** A request block whose start line names no request we report: it still takes its place in the order of answers. */
  unnamed(): void { this.requests++; }

  /**
   * A response: the request it answers, `depth` alone when that request was
   * over the cap (method and uri not kept), or null when no request is
   * outstanding (counted). An interim (1xx) response does not consume it.
   */
  response(interim: boolean): HttpPendingRequest | { depth: number } | null {
    if (this.answered >= this.requests) {
      this.stats.http_unmatched_responses++;
      return null;
    }
    const depth = this.answered + 1;
    const head = this.q[0];
    const r = head !== undefined && head.depth === depth ? head : { depth };
    if (!interim) {
      this.answered = depth;
      if (r === head) { this.q.shift(); this.uriChars -= head.uri.length; this.stats.http_answered++; }
    }
    return r;
  }
}
