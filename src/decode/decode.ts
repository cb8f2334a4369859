/**
 * Packet decode entry point: link layer → IP (with IP-in-IP tunnels and
 * fragment reassembly) → transport, all by offset into the capture buffer.
 */
import { LINKTYPE } from '../capture/types.js';
import { decodeEthernet, ETH_IPV4, ETH_IPV6 } from './ethernet.js';
import { decodeSll, decodeSll2 } from './sll.js';
import { decodeNullFamily } from './null.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { decodeIcmp } from './icmp.js';
import { IpReassembler } from './reassembly.js';
import { u16be } from './bytes.js';
import { DecodeIssue, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, type Packet } from './packet.js';

const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;
const MAX_TUNNEL_DEPTH = 4;

/**
 * Decodes `pkt.buf[off .. off+caplen)` of the given link type into `pkt`.
 * Returns DecodeIssue.None when the IP layer was reached (transport issues are
 * returned too, with the IP fields valid).
 */
export function decodePacket(pkt: Packet, linktype: number, buf: Buffer, off: number, caplen: number): DecodeIssue {
  pkt.reset();
  pkt.buf = buf;
  const end = off + caplen;
  pkt.end = end;
  const r = decodeLink(pkt, linktype, buf, off, end);
  if (r < 0) return -r as DecodeIssue;
  return decodeIp(pkt, buf, (r - (r & 7)) / 8, r & 7, 0);
}

/**
 * The link layer: returns ipOffset * 8 + ipVersion (4 or 6), or −DecodeIssue.
 * Also what the parallel dispatcher reads to find a packet's addresses.
 */
export function decodeLink(pkt: Packet, linktype: number, buf: Buffer, off: number, end: number): number {
  const caplen = end - off;
  let ipVer = 0;
  let p = off;
  switch (linktype) {
    case LINKTYPE.ETHERNET: {
      const r = decodeEthernet(pkt, buf, off, end);
      if (r < 0) return -DecodeIssue.TruncatedLink;
      const type = Math.floor(r / 4294967296);
      p = r - type * 4294967296;
      ipVer = type === ETH_IPV4 ? 4 : type === ETH_IPV6 ? 6 : 0;
      break;
    }
    case LINKTYPE.LINUX_SLL:
    case LINKTYPE.LINUX_SLL2: {
      const r = linktype === LINKTYPE.LINUX_SLL ? decodeSll(buf, off, end) : decodeSll2(buf, off, end);
      if (r < 0) return -DecodeIssue.TruncatedLink;
      const type = Math.floor(r / 4294967296);
      p = r - type * 4294967296;
      ipVer = type === ETH_IPV4 ? 4 : type === ETH_IPV6 ? 6 : 0;
      break;
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      const v = decodeNullFamily(buf, off, end, linktype === LINKTYPE.LOOP);
      if (v < 0) return -DecodeIssue.TruncatedLink;
      ipVer = v;
      p = off + 4;
      break;
    }
    case LINKTYPE.RAW:
    case 12: // LINKTYPE_RAW's old DLT number on some BSDs
    case 14:
      if (caplen < 1) return -DecodeIssue.TruncatedLink;
      ipVer = buf[off]! >> 4;
      break;
    case LINKTYPE.IPV4: ipVer = 4; break;
    case LINKTYPE.IPV6: ipVer = 6; break;
    default:
      return -DecodeIssue.UnknownLinktype;
  }
  if (ipVer !== 4 && ipVer !== 6) return -DecodeIssue.NotIp;
  return p * 8 + ipVer;
}

function decodeIp(pkt: Packet, buf: Buffer, p: number, ipVer: number, depth: number): DecodeIssue {
  const issue = ipVer === 4 ? decodeIpv4(pkt, buf, p, pkt.end) : decodeIpv6(pkt, buf, p, pkt.end);
  if (issue !== DecodeIssue.None) return issue;
  if (pkt.laterFragment || pkt.firstFragment) {
    const whole = reassemble(pkt, buf, p, ipVer);
    if (whole === null) {
      if (!pkt.firstFragment) return DecodeIssue.None;
      // A first fragment waiting for the rest: its transport header is read (ports),
      // but it is no packet to act on: the datagram comes when it is complete.
      decodeTransportHeader(pkt, buf);
      pkt.hasL4 = false;
      pkt.icmpType = pkt.icmpCode = -1;
      pkt.payLen = pkt.payWire = 0;
      return DecodeIssue.None;
    }
    buf = whole;
    if (pkt.l4Off > whole.length) return DecodeIssue.TruncatedIp;
  }
  const l4 = pkt.l4Off;
  const end = pkt.end;
  switch (pkt.proto) {
    case IPPROTO_TCP: return decodeTcp(pkt, buf, l4, end);
    case IPPROTO_UDP: return decodeUdp(pkt, buf, l4, end);
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: return decodeIcmp(pkt, buf, l4, end);
    case IPPROTO_IPIP:
    case IPPROTO_IPV6:
      // Tunnels: the innermost header names the endpoints (as tshark reports them).
      if (depth < MAX_TUNNEL_DEPTH && end - l4 >= 1) {
        const v = buf[l4]! >> 4;
        if (v === 4 || v === 6) return decodeIp(pkt, buf, l4, v, depth + 1);
      }
      return DecodeIssue.None;
    default:
      return DecodeIssue.None;
  }
}

function decodeTransportHeader(pkt: Packet, buf: Buffer): void {
  if (pkt.proto === IPPROTO_TCP) decodeTcp(pkt, buf, pkt.l4Off, pkt.end);
  else if (pkt.proto === IPPROTO_UDP) decodeUdp(pkt, buf, pkt.l4Off, pkt.end);
}

const HOPOPTS = 0, ROUTING = 43, DSTOPTS = 60, MOBILITY = 135;

/**
 * Hands a fragment to the packet stream's reassembler. Returns null while the
 * datagram is incomplete. When this fragment completes it, points the packet
 * at the reassembled payload (buf, l4Off, end, proto; laterFragment and
 * firstFragment cleared) and returns that buffer.
 * A fragment cut by the snap length cannot be stored whole: a first fragment
 * is then decoded on its own as before (ports, start of the payload), a later
 * one is only counted.
 */
function reassemble(pkt: Packet, buf: Buffer, ipOff: number, ipVer: number): Buffer | null {
  const payWire = ipVer === 4
    ? pkt.ipPayloadLen
    : u16be(buf, ipOff + 4) - (pkt.fragPayOff - ipOff - 40);
  const have = pkt.end - pkt.fragPayOff;
  if (payWire < 0 || have < payWire) {
    if (pkt.firstFragment) return buf; // decode what the first fragment has, as without reassembly
    return null;
  }
  const key = ipVer === 4
    ? `4 ${pkt.s0} ${pkt.d0} ${pkt.fragId} ${pkt.proto}`
    : `6 ${pkt.s0} ${pkt.s1} ${pkt.s2} ${pkt.s3} ${pkt.d0} ${pkt.d1} ${pkt.d2} ${pkt.d3} ${pkt.fragId}`;
  const r = pkt.reassembly ??= new IpReassembler();
  const whole = r.add(key, pkt.fragOffset, pkt.fragMore, buf, pkt.fragPayOff, payWire, pkt.ts);
  if (whole === null) return null;
  pkt.laterFragment = false;
  pkt.firstFragment = false;
  pkt.buf = whole;
  pkt.end = whole.length;
  // IPv6: extension headers of the fragmentable part come first in the reassembled payload.
  let proto = pkt.fragNext, q = 0;
  // Bounded by the payload's length (each header is at least 8 bytes), not by a count.
  while (ipVer === 6 && (proto === HOPOPTS || proto === ROUTING || proto === DSTOPTS || proto === MOBILITY)) {
    if (whole.length - q < 8) { q = whole.length + 1; break; }
    proto = whole[q]!;
    q += (whole[q + 1]! + 1) * 8;
  }
  pkt.proto = proto;
  pkt.l4Off = q;
  pkt.ipPayloadLen = whole.length - q;
  return whole;
}
