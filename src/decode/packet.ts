/**
 * The per-packet scratch record. One instance is reused for every packet:
 * decoders write offsets and numbers into it, nothing per packet is
 * allocated. Later stages copy out only what becomes an event or a flow.
 */
import type { TsDigits } from '../capture/types.js';
import type { IpReassembler } from './reassembly.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export class Packet {
  // capture
  tsSec = 0;
  tsNsec = 0;
  tsDigits: TsDigits = 6;
  /** tsSec + tsNsec / 1e9 */
  ts = 0;
  buf: Buffer = Buffer.alloc(0);
  caplen = 0;
  wirelen = 0;
  /** one past the last captured byte of this packet in buf */
  end = 0;
  vlan = -1;

  // network layer: 0 = none, 4, 6
  ipVer = 0;
  ipOff = 0;
  /** addresses as four 32-bit words, signed int32 (IPv4 uses word 0, the rest stay 0) */
  s0 = 0; s1 = 0; s2 = 0; s3 = 0;
  d0 = 0; d1 = 0; d2 = 0; d3 = 0;
  /** upper-layer protocol after IPv6 extension headers */
  proto = 0;
  ttl = 0;
  /** bytes after the IP header(s) according to the IP length field (wire, not captured) */
  ipPayloadLen = 0;
  /**
   * a non-first fragment: no transport header here. When a fragment completes
   * its datagram, the packet is that datagram instead (`buf` holds the
   * reassembled IP payload) and this and firstFragment are false.
   */
  laterFragment = false;
  /**
   * first fragment of a datagram (MF set, offset 0). While the rest is missing
   * its ports are read but hasL4 stays false: nothing acts on it yet. (Cut by
   * the snap length, it cannot be reassembled and is decoded on its own.)
   */
  firstFragment = false;
  /** fragment header fields (valid when laterFragment or firstFragment was set by the IP decoder) */
  fragId = 0;
  /** byte offset of this fragment's data in the datagram */
  fragOffset = 0;
  fragMore = false;
  /** offset in buf of the fragment's data, and the protocol it starts with (IPv6: fragment header's next header) */
  fragPayOff = 0;
  fragNext = 0;
  /** fragment reassembly state of this packet stream, created at the first fragment (see reassembly.ts) */
  reassembly: IpReassembler | null = null;

  // transport layer
  l4Off = 0;
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  win = 0;
  icmpType = -1;
  icmpCode = -1;
  /** payload offset and captured length inside buf */
  payOff = 0;
  payLen = 0;
  /** payload length on the wire (from the IP/UDP length fields) */
  payWire = 0;
  /** the packet has a transport layer to act on (sport/dport valid); false for a first fragment awaiting reassembly */
  hasL4 = false;

  reset(): void {
    this.vlan = -1;
    this.ipVer = 0;
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.d0 = this.d1 = this.d2 = this.d3 = 0;
    this.proto = 0;
    this.laterFragment = false;
    this.firstFragment = false;
    this.hasL4 = false;
    this.sport = this.dport = 0;
    this.tcpFlags = 0;
    this.icmpType = this.icmpCode = -1;
    this.payOff = this.payLen = this.payWire = 0;
  }
}

/** Why a packet could not be decoded further; counted, reported in the summary. */
export const enum DecodeIssue {
  None = 0,
  TruncatedLink,
  UnknownLinktype,
  NotIp,
  TruncatedIp,
  BadIpHeader,
  TruncatedTransport,
  BadTransportHeader,
  /** an IPv6 extension-header chain that runs past the end of the packet */
  BadIpv6ExtChain,
}

export const DECODE_ISSUE_NAMES = [
  'none', 'truncated_link', 'unknown_linktype', 'not_ip', 'truncated_ip', 'bad_ip_header',
  'truncated_transport', 'bad_transport_header', 'ipv6_ext_chain',
] as const;
