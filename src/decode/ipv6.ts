/**
 * IPv6 (RFC 8200) and its extension-header chain: hop-by-hop, routing,
 * fragment, destination options, AH. ESP and "no next header" end the chain.
 *
 * The chain is followed as far as it goes, bounded only by the packet (each
 * header takes at least 8 bytes, so the loop ends): a count limit would let a
 * scanner hide a SYN behind 17 headers that the Linux kernel still answers.
 * A chain that runs past the packet is given up and counted (ipv6_ext_chain).
 */
import { DecodeIssue, type Packet } from './packet.js';
import { i32be, u16be, u32be } from './bytes.js';

const HOPOPTS = 0, ROUTING = 43, FRAGMENT = 44, ESP = 50, AH = 51, DSTOPTS = 60, MOBILITY = 135;

export function decodeIpv6(pkt: Packet, buf: Buffer, off: number, end: number): DecodeIssue {
  if (end - off < 40) return DecodeIssue.TruncatedIp;
  if (buf[off]! >> 4 !== 6) return DecodeIssue.BadIpHeader;
  const plen = u16be(buf, off + 4);
  pkt.ipVer = 6;
  pkt.ipOff = off;
  pkt.ttl = buf[off + 7]!;
  pkt.s0 = i32be(buf, off + 8); pkt.s1 = i32be(buf, off + 12);
  pkt.s2 = i32be(buf, off + 16); pkt.s3 = i32be(buf, off + 20);
  pkt.d0 = i32be(buf, off + 24); pkt.d1 = i32be(buf, off + 28);
  pkt.d2 = i32be(buf, off + 32); pkt.d3 = i32be(buf, off + 36);
  if (off + 40 + plen < end) {
    pkt.end = off + 40 + plen;
    // The chain must fit the payload length too (0: a jumbogram, sized by its hop-by-hop option).
    if (plen !== 0) end = pkt.end;
  }
  let next = buf[off + 6]!;
  let p = off + 40;
  pkt.laterFragment = false;
  pkt.firstFragment = false;
  for (;;) {
    if (next === HOPOPTS || next === ROUTING || next === DSTOPTS || next === MOBILITY) {
      if (end - p < 8) return DecodeIssue.BadIpv6ExtChain;
      next = buf[p]!;
      p += (buf[p + 1]! + 1) * 8;
    } else if (next === FRAGMENT) {
      if (end - p < 8) return DecodeIssue.BadIpv6ExtChain;
      const fo = u16be(buf, p + 2);
      if ((fo & 0xfff8) !== 0) pkt.laterFragment = true;
      else if ((fo & 1) !== 0) pkt.firstFragment = true;
      next = buf[p]!;
      // (an atomic fragment, offset 0 without M, is a whole datagram: nothing to reassemble)
      pkt.fragId = u32be(buf, p + 4);
      pkt.fragOffset = fo & 0xfff8;
      pkt.fragMore = (fo & 1) !== 0;
      pkt.fragNext = next;
      p += 8;
      pkt.fragPayOff = p;
      if (pkt.laterFragment) break; // what follows is the middle of the datagram, not a header
    } else if (next === AH) {
      if (end - p < 8) return DecodeIssue.BadIpv6ExtChain;
      next = buf[p]!;
      p += (buf[p + 1]! + 2) * 4;
    } else {
      break;
    }
  }
  if (p > off + 40 + plen && plen !== 0) return DecodeIssue.BadIpHeader;
  pkt.proto = next === ESP ? ESP : next;
  pkt.ipPayloadLen = plen - (p - off - 40);
  pkt.l4Off = p;
  return DecodeIssue.None;
}
