/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code, and for error
 * messages the tuple of the packet they quote (what a UDP scan's
 * "port unreachable" answers tell us).
 */
import { DecodeIssue, IPPROTO_TCP, IPPROTO_UDP, type Packet } from './packet.js';
import { u16be, u32be } from './bytes.js';

export function decodeIcmp(pkt: Packet, buf: Buffer, off: number, end: number): DecodeIssue {
  if (end - off < 4) return DecodeIssue.TruncatedTransport;
  pkt.icmpType = buf[off]!;
  pkt.icmpCode = buf[off + 1]!;
  pkt.l4Off = off;
  pkt.payOff = off + 8 <= end ? off + 8 : end;
  pkt.payLen = end - pkt.payOff;
  pkt.payWire = pkt.ipPayloadLen - 8 > 0 ? pkt.ipPayloadLen - 8 : 0;
  return DecodeIssue.None;
}

/** ICMPv4 types that quote the offending datagram. */
export function isIcmpError(v6: boolean, type: number): boolean {
  return v6 ? type >= 1 && type <= 4 : type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

export interface QuotedTuple { ver: 4 | 6; proto: number; s: number[]; d: number[]; sport: number; dport: number }

/** Decodes the IP header + first 8 bytes quoted in an ICMP error at buf[off..end), or null. */
export function decodeQuoted(buf: Buffer, off: number, end: number): QuotedTuple | null {
  if (end - off < 1) return null;
  const v = buf[off]! >> 4;
  let proto: number, s: number[], d: number[], p: number;
  if (v === 4) {
    if (end - off < 20) return null;
    const hl = (buf[off]! & 15) * 4;
    proto = buf[off + 9]!;
    s = [u32be(buf, off + 12), 0, 0, 0];
    d = [u32be(buf, off + 16), 0, 0, 0];
    p = off + hl;
  } else if (v === 6) {
    if (end - off < 40) return null;
    proto = buf[off + 6]!;
    s = [u32be(buf, off + 8), u32be(buf, off + 12), u32be(buf, off + 16), u32be(buf, off + 20)];
    d = [u32be(buf, off + 24), u32be(buf, off + 28), u32be(buf, off + 32), u32be(buf, off + 36)];
    p = off + 40;
  } else return null;
  let sport = 0, dport = 0;
  if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && end - p >= 4) {
    sport = u16be(buf, p);
    dport = u16be(buf, p + 2);
  }
  return { ver: v, proto, s, d, sport, dport };
}
