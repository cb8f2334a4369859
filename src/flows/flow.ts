/** A bidirectional flow (TCP connection or UDP "connection"), keyed by its 5-tuple. */
import type { PacketTime } from '../events/types.js';
import type { TcpStream } from './stream.js';
import type { DnsPending } from './transactions.js';

export const enum App { Undecided, None, Http, Ssh, Dns, Tls }

/** Timeout classes: each has its own LRU list so expiry only looks at list heads. */
export const enum TimeoutClass { Attempt, Established, Closing, Udp }
export const TIMEOUT_CLASSES = 4;

// TCP state bits (Flow.bits): one small integer instead of nine boolean fields (8 bytes each per flow)
const B_ORIG_SYN = 1, B_RESP_SYNACK = 2, B_ORIG_FIN = 4, B_RESP_FIN = 8, B_ORIG_RST = 16, B_RESP_RST = 32;
const B_ESTABLISHED = 64, B_OUTCOME = 128, B_STARTTLS = 256;
/** application protocols recognised (conn `service`), in Flow.bits from bit 9 */
export const SVC_DNS = 1, SVC_HTTP = 2, SVC_SSH = 4, SVC_TLS = 8;
const SVC_SHIFT = 9;
/** `service` text per set of SVC_* bits, in the fixed order dns, http, ssh, tls (no string built per flow) */
export const SERVICE_NAMES: readonly string[] = Array.from({ length: 16 }, (_v, b) =>
  ['dns', 'http', 'ssh', 'tls'].filter((_n, i) => (b & (1 << i)) !== 0).join(','));

/**
 * Flows are the state a spoofed-source flood multiplies, so the record is kept
 * small (measured: 1 M flows were 660 MiB of RSS before): addresses as signed
 * int32 words (small integers, never boxed), the TCP flags in one bit field,
 * the start time inline rather than a PacketTime object, and records are
 * recycled by the flow table (see FlowTable.release) instead of left to the
 * old-generation collector.
 */
export class Flow {
  // key: orig (a*) and resp (b*) endpoint, IPv4 uses word 0 only
  ver = 4; proto = 0;
  a0 = 0; a1 = 0; a2 = 0; a3 = 0; aport = 0;
  b0 = 0; b1 = 0; b2 = 0; b3 = 0; bport = 0;
  hash = 0;
  /** next flow in the same hash bucket */
  chain: Flow | null = null;
  // LRU list links within the flow's timeout class
  prev: Flow | null = null;
  next: Flow | null = null;
  cls: TimeoutClass = TimeoutClass.Udp;
  origAddr = '';
  respAddr = '';
  /** Zeek-style connection uid (flows/uid.ts) and Community ID v1 (flows/community-id.ts), set once at creation */
  uid = '';
  community_id = '';
  /** packet time of the first packet (conn summaries carry it, as Zeek's conn.log does), inline: see start */
  startTs = 0; startSec = 0; startNsec = 0; startDigits: 6 | 9 = 6;
  last = 0;
  /** FlowTable.clock at the last touch: the flow's place in its timeout list (parallel mode orders expiries by it) */
  touchSeq = 0;
  origPkts = 0; respPkts = 0;
  /** payload bytes each way */
  origBytes = 0; respBytes = 0;
  /** TCP state and "outcome emitted" / "STARTTLS seen" as bits (accessors below) */
  bits = 0;
  /** conn_progress: packet time of the last report (the start until the first), payload bytes reported each way */
  progTs = 0; progOrig = 0; progResp = 0;
  history = '';
  /** letters already in history, one bit each (see hist() in tracker.ts) */
  historyBits = 0;
  /** next sequence number expected each way (-1: not known yet), for missed_bytes */
  origSeqNext = -1; respSeqNext = -1;
  /** payload bytes never captured (Zeek's missed_bytes) */
  missedBytes = 0;
  /** the latest hole counted in missedBytes, [start, end) in the sequence space of one direction (a late segment may fill it) */
  holeStart = 0; holeEnd = 0; holeOrig = false;
  // application layer
  app: App = App.Undecided;
  /** payload-carrying segments looked at while undecided */
  probes = 0;
  origStream: TcpStream | null = null;
  respStream: TcpStream | null = null;
  /** DNS queries waiting for their answer on this flow (flows/transactions.ts); made at its first query */
  dns: DnsPending | null = null;

  /** SVC_* bits of the application protocols recognised on the flow */
  get services(): number { return (this.bits >> SVC_SHIFT) & 15; }
  addService(svc: number): void { this.bits |= svc << SVC_SHIFT; }

  /** The first packet's time as a PacketTime (a new object: only for the rare events stamped with it). */
  get start(): PacketTime { return { ts: this.startTs, tsSec: this.startSec, tsNsec: this.startNsec, tsDigits: this.startDigits }; }

  get origSyn(): boolean { return (this.bits & B_ORIG_SYN) !== 0; }
  set origSyn(v: boolean) { this.flag(B_ORIG_SYN, v); }
  get respSynAck(): boolean { return (this.bits & B_RESP_SYNACK) !== 0; }
  set respSynAck(v: boolean) { this.flag(B_RESP_SYNACK, v); }
  get origFin(): boolean { return (this.bits & B_ORIG_FIN) !== 0; }
  set origFin(v: boolean) { this.flag(B_ORIG_FIN, v); }
  get respFin(): boolean { return (this.bits & B_RESP_FIN) !== 0; }
  set respFin(v: boolean) { this.flag(B_RESP_FIN, v); }
  get origRst(): boolean { return (this.bits & B_ORIG_RST) !== 0; }
  set origRst(v: boolean) { this.flag(B_ORIG_RST, v); }
  get respRst(): boolean { return (this.bits & B_RESP_RST) !== 0; }
  set respRst(v: boolean) { this.flag(B_RESP_RST, v); }
  get established(): boolean { return (this.bits & B_ESTABLISHED) !== 0; }
  set established(v: boolean) { this.flag(B_ESTABLISHED, v); }
  /** outcome event already emitted */
  get outcome(): boolean { return (this.bits & B_OUTCOME) !== 0; }
  set outcome(v: boolean) { this.flag(B_OUTCOME, v); }
  /** a STARTTLS-like command was seen while undecided (the probe count restarted once for the ClientHello) */
  get sawStartTls(): boolean { return (this.bits & B_STARTTLS) !== 0; }
  set sawStartTls(v: boolean) { this.flag(B_STARTTLS, v); }

  private flag(b: number, v: boolean): void { this.bits = v ? this.bits | b : this.bits & ~b; }

  /** Back to a fresh record (recycling); the key, links and addresses are set by the table and tracker. */
  reset(): void {
    this.chain = this.prev = this.next = null;
    this.origAddr = this.respAddr = this.uid = this.community_id = '';
    this.origPkts = this.respPkts = this.origBytes = this.respBytes = 0;
    this.bits = 0;
    this.history = '';
    this.historyBits = 0;
    this.origSeqNext = this.respSeqNext = -1;
    this.missedBytes = this.holeStart = this.holeEnd = 0;
    this.holeOrig = false;
    this.app = App.Undecided;
    this.probes = 0;
    this.touchSeq = 0;
    this.progTs = this.progOrig = this.progResp = 0;
    this.origStream = this.respStream = null;
    this.dns = null;
  }
}
