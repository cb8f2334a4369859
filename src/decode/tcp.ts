/**
 * TCP header (RFC 9293). A header cut short by the snap length still yields
 * ports and flags when the first 14 bytes are there (so a SYN cut inside its
 * options is still a SYN); the payload is then empty.
 */
import { DecodeIssue, type Packet } from './packet.js';

export function decodeTcp(pkt: Packet, buf: Buffer, off: number, end: number): DecodeIssue {
  if (end - off < 14) return DecodeIssue.TruncatedTransport;
  pkt.sport = buf.readUInt16BE(off);
  pkt.dport = buf.readUInt16BE(off + 2);
  pkt.seq = buf.readUInt32BE(off + 4);
  pkt.ack = buf.readUInt32BE(off + 8);
  const hl = (buf[off + 12]! >> 4) * 4;
  pkt.tcpFlags = buf[off + 13]!;
  pkt.hasL4 = true;
  pkt.l4Off = off;
  if (hl < 20) { pkt.payLen = 0; pkt.payWire = 0; return DecodeIssue.BadTransportHeader; }
  pkt.win = end - off >= 16 ? buf.readUInt16BE(off + 14) : 0;
  const wire = pkt.ipPayloadLen - hl;
  pkt.payWire = wire > 0 ? wire : 0;
  if (end - off < hl) { pkt.payOff = end; pkt.payLen = 0; return DecodeIssue.None; }
  pkt.payOff = off + hl;
  const cap = end - off - hl;
  pkt.payLen = cap < pkt.payWire ? cap : pkt.payWire;
  return DecodeIssue.None;
}
