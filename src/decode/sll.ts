/**
 * Linux "cooked" capture headers (capture on the "any" device).
 * SLL v1 (LINKTYPE_LINUX_SLL 113): 16 bytes, protocol at offset 14.
 * SLL v2 (LINKTYPE_LINUX_SLL2 276): 20 bytes, protocol at offset 0.
 * Packed return as in ethernet.ts: etherType * 2^32 + payload offset, -1 if truncated.
 */
import { decodeMpls } from './ethernet.js';

const ETH_VLAN = 0x8100;

function afterProto(buf: Buffer, type: number, p: number, end: number): number {
  // The kernel may leave an 802.1Q tag in the payload.
  if (type === ETH_VLAN) {
    if (end - p < 4) return -1;
    type = buf[p + 2]! << 8 | buf[p + 3]!;
    p += 4;
  }
  if (type === 0x8847 || type === 0x8848) return decodeMpls(buf, p, end);
  return type * 4294967296 + p;
}

export function decodeSll(buf: Buffer, off: number, end: number): number {
  if (end - off < 16) return -1;
  return afterProto(buf, buf[off + 14]! << 8 | buf[off + 15]!, off + 16, end);
}

export function decodeSll2(buf: Buffer, off: number, end: number): number {
  if (end - off < 20) return -1;
  return afterProto(buf, buf[off]! << 8 | buf[off + 1]!, off + 20, end);
}
