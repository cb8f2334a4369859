/** A bidirectional flow (TCP connection or UDP "connection"), keyed by its 5-tuple. */
import type { PacketTime } from '../events/types.js';
import type { TcpStream } from './stream.js';

export const enum App { Undecided, None, Http, Ssh, Dns, Tls }

/** Timeout classes: each has its own LRU list so expiry only looks at list heads. */
export const enum TimeoutClass { Attempt, Established, Closing, Udp }
export const TIMEOUT_CLASSES = 4;

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
  /** packet time of the first packet (conn summaries carry it, as Zeek's conn.log does) */
  start: PacketTime = { ts: 0, tsSec: 0, tsNsec: 0, tsDigits: 6 };
  last = 0;
  origPkts = 0; respPkts = 0;
  /** payload bytes each way */
  origBytes = 0; respBytes = 0;
  /** IP-level bytes each way */
  origIpBytes = 0; respIpBytes = 0;
  // TCP state
  origSyn = false; respSynAck = false; origAckAfterSynAck = false;
  origFin = false; respFin = false; origRst = false; respRst = false;
  established = false;
  /** outcome event already emitted */
  outcome = false;
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
  /** a STARTTLS-like command was seen while undecided (the probe count restarted once for the ClientHello) */
  sawStartTls = false;
  origStream: TcpStream | null = null;
  respStream: TcpStream | null = null;
}
