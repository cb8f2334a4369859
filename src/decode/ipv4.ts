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
  const total = buf[off + 2]! << 8 | buf[off + 3]!;
  if (hl < 20 || total < hl) return DecodeIssue.BadIpHeader;
  if (end - off < hl) return DecodeIssue.TruncatedIp;
  pkt.ipVer = 4;
  pkt.ipOff = off;
  pkt.ttl = buf[off + 8]!;
  pkt.proto = buf[off + 9]!;
  // Signed int32 words (see i32be): an address above 127.255.255.255 as uint32 would be a boxed number in every flow.
  pkt.s0 = buf[off + 12]! << 24 | buf[off + 13]! << 16 | buf[off + 14]! << 8 | buf[off + 15]!;
  pkt.d0 = buf[off + 16]! << 24 | buf[off + 17]! << 16 | buf[off + 18]! << 8 | buf[off + 19]!;
  pkt.s1 = pkt.s2 = pkt.s3 = pkt.d1 = pkt.d2 = pkt.d3 = 0;
  const frag = buf[off + 6]! << 8 | buf[off + 7]!;
  const fragOffset = frag & 0x1fff;
  pkt.laterFragment = fragOffset !== 0;
  pkt.firstFragment = fragOffset === 0 && (frag & 0x2000) !== 0;
  if (pkt.laterFragment || pkt.firstFragment) {
    pkt.fragId = buf[off + 4]! << 8 | buf[off + 5]!;
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
