/**
 * IPv4 (RFC 791): header with options, fragments. Fragments are marked with
 * their identification and offset for reassembly (decode.ts, reassembly.ts).
 */
import { DecodeIssue, type Packet } from './packet.js';

/** Decodes the IPv4 header at `off`. On success sets pkt.l4Off/ipPayloadLen and returns None. */
export function decodeIpv4(pkt: Packet, buf: Buffer, off: number, end: number): DecodeIssue {
  if (end - off < 20) return DecodeIssue.TruncatedIp;
  const vhl = buf[off]!;
  if (vhl >> 4 !== 4) return DecodeIssue.BadIpHeader;
  const hl = (vhl & 15) * 4;
  const total = buf.readUInt16BE(off + 2);
  if (hl < 20 || total < hl) return DecodeIssue.BadIpHeader;
  if (end - off < hl) return DecodeIssue.TruncatedIp;
  pkt.ipVer = 4;
  pkt.ipOff = off;
  pkt.ttl = buf[off + 8]!;
  pkt.proto = buf[off + 9]!;
  pkt.s0 = buf.readUInt32BE(off + 12);
  pkt.d0 = buf.readUInt32BE(off + 16);
  pkt.s1 = pkt.s2 = pkt.s3 = pkt.d1 = pkt.d2 = pkt.d3 = 0;
  const frag = buf.readUInt16BE(off + 6);
  const fragOffset = frag & 0x1fff;
  pkt.laterFragment = fragOffset !== 0;
  pkt.firstFragment = fragOffset === 0 && (frag & 0x2000) !== 0;
  if (pkt.laterFragment || pkt.firstFragment) {
    pkt.fragId = buf.readUInt16BE(off + 4);
    pkt.fragOffset = fragOffset * 8;
    pkt.fragMore = (frag & 0x2000) !== 0;
    pkt.fragPayOff = off + hl;
    pkt.fragNext = pkt.proto;
  }
  pkt.ipPayloadLen = total - hl;
  // Ethernet pads short frames: the IP length, not the frame, says where the datagram ends.
  if (off + total < end) pkt.end = off + total;
  pkt.l4Off = off + hl;
  return DecodeIssue.None;
}
