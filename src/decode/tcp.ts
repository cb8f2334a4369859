/**
 * TCP header (RFC 9293). A header cut short by the snap length still yields
 * ports and flags when the first 14 bytes are there (so a SYN cut inside its
 * options is still a SYN); the payload is then empty.
 */
import { DecodeIssue, type Packet } from './packet.js';

export function decodeTcp(pkt: Packet, buf: Buffer, off: number, end: number): DecodeIssue {
  if (end - off < 14) return DecodeIssue.TruncatedTransport;
  // Byte arithmetic: Buffer.readUInt* validate the offset on every call (14 bytes are known to be there).
  pkt.sport = buf[off]! << 8 | buf[off + 1]!;
  pkt.dport = buf[off + 2]! << 8 | buf[off + 3]!;
  pkt.seq = ((buf[off + 4]! << 24) >>> 0) + (buf[off + 5]! << 16 | buf[off + 6]! << 8 | buf[off + 7]!);
  pkt.ack = ((buf[off + 8]! << 24) >>> 0) + (buf[off + 9]! << 16 | buf[off + 10]! << 8 | buf[off + 11]!);
  const hl = (buf[off + 12]! >> 4) * 4;
  pkt.tcpFlags = buf[off + 13]!;
  pkt.hasL4 = true;
  pkt.l4Off = off;
  if (hl < 20) { pkt.payLen = 0; pkt.payWire = 0; return DecodeIssue.BadTransportHeader; }
  pkt.win = end - off >= 16 ? buf[off + 14]! << 8 | buf[off + 15]! : 0;
  const wire = pkt.ipPayloadLen - hl;
  pkt.payWire = wire > 0 ? wire : 0;
  if (end - off < hl) { pkt.payOff = end; pkt.payLen = 0; return DecodeIssue.None; }
  pkt.payOff = off + hl;
  const cap = end - off - hl;
  pkt.payLen = cap < pkt.payWire ? cap : pkt.payWire;
  return DecodeIssue.None;
}
