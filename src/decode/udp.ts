/** UDP header (RFC 768). */
import { DecodeIssue, type Packet } from './packet.js';

export function decodeUdp(pkt: Packet, buf: Buffer, off: number, end: number): DecodeIssue {
  if (end - off < 8) return DecodeIssue.TruncatedTransport;
  pkt.sport = buf[off]! << 8 | buf[off + 1]!;
  pkt.dport = buf[off + 2]! << 8 | buf[off + 3]!;
  const len = buf[off + 4]! << 8 | buf[off + 5]!;
  pkt.hasL4 = true;
  pkt.l4Off = off;
  // A first fragment's UDP length covers the whole datagram; trust the IP length then.
  let wire = len >= 8 && !pkt.firstFragment ? len - 8 : pkt.ipPayloadLen - 8;
  if (wire < 0) wire = 0;
  pkt.payWire = wire;
  pkt.payOff = off + 8;
  const cap = end - off - 8;
  pkt.payLen = cap < wire ? cap : wire;
  return DecodeIssue.None;
}
