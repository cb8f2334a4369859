/** Small constructors shared by the stages that create events. */
import type { PacketTime } from './types.js';
import type { Packet } from '../decode/packet.js';

export function timeOf(p: Packet): PacketTime {
  return { ts: p.ts, tsSec: p.tsSec, tsNsec: p.tsNsec, tsDigits: p.tsDigits };
}

/** Exact decimal text of a packet time: "1700000000.123456" or ".123456789". */
export function formatTs(t: PacketTime): string {
  const frac = t.tsDigits === 9 ? t.tsNsec : Math.floor(t.tsNsec / 1000);
  return `${t.tsSec}.${String(frac).padStart(t.tsDigits, '0')}`;
}
