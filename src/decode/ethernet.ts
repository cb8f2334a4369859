/**
 * Ethernet II with any stack of 802.1Q (0x8100), 802.1ad (0x88a8) and the old
 * QinQ 0x9100 tags, and MPLS label stacks (0x8847/0x8848) in front of IP.
 * Returns the EtherType of the payload and its offset via the packet.
 */
import type { Packet } from './packet.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;

/** Bound on stacked tags/labels, so a crafted frame cannot loop us. */
const MAX_TAGS = 8;

/** @returns [etherType, payloadOffset] packed as etherType * 2^32 + offset, or -1 when truncated */
export function decodeEthernet(pkt: Packet, buf: Buffer, off: number, end: number): number {
  if (end - off < 14) return -1;
  let type = buf[off + 12]! << 8 | buf[off + 13]!;
  let p = off + 14;
  for (let i = 0; i < MAX_TAGS && (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD); i++) {
    if (end - p < 4) return -1;
    if (pkt.vlan < 0) pkt.vlan = (buf[p]! << 8 | buf[p + 1]!) & 0x0fff;
    type = buf[p + 2]! << 8 | buf[p + 3]!;
    p += 4;
  }
  if (type === ETH_MPLS || type === ETH_MPLS_MC) return decodeMpls(buf, p, end);
  return type * 4294967296 + p;
}

/** MPLS: skip labels to the bottom of stack, then guess IPv4/IPv6 from the version nibble (as tcpdump does). */
export function decodeMpls(buf: Buffer, p: number, end: number): number {
  for (let i = 0; i < MAX_TAGS; i++) {
    if (end - p < 4) return -1;
    const bos = buf[p + 2]! & 1;
    p += 4;
    if (bos) {
      if (end - p < 1) return -1;
      const v = buf[p]! >> 4;
      if (v === 4) return ETH_IPV4 * 4294967296 + p;
      if (v === 6) return ETH_IPV6 * 4294967296 + p;
      return 0;
    }
  }
  return 0;
}
