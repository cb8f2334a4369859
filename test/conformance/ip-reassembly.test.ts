/**
 * IP fragment reassembly (src/decode/reassembly.ts, wired in decode.ts): the
 * corpus checks that fragmented DNS is decoded where tshark decodes it; these
 * check what the corpus does not have: order, overlap, bounds and timeouts.
 */
import { describe, it, expect } from 'vitest';
import { IpReassembler } from '../../src/decode/reassembly.js';
import type { DnsEvent } from '../../src/events/types.js';
import { ethernet, ipv4Header, ipv6Packet, udp, u16, u32, dnsName } from '../helpers/craft.js';
import { runFrames } from '../helpers/collect.js';

/** A DNS response with one TXT answer of `n` bytes: big enough to fragment. */
function dnsTxt(id: number, n: number): number[] {
  const txt: number[] = [];
  for (let left = n; left > 0; left -= 255) {
    const l = Math.min(255, left);
    txt.push(l, ...new Array<number>(l).fill(0x58));
  }
  return [
    ...u16(id), 0x81, 0x80, ...u16(1), ...u16(1), ...u16(0), ...u16(0),
    ...dnsName('big.example'), ...u16(16), ...u16(1),
    0xc0, 12, ...u16(16), ...u16(1), ...u32(60), ...u16(txt.length), ...txt,
  ];
}

/** Splits an IPv4 UDP datagram into fragments of `size` payload bytes (a multiple of 8). */
function v4Fragments(datagram: number[], size: number, id: number): number[][] {
  const out: number[][] = [];
  for (let off = 0; off < datagram.length; off += size) {
    const part = datagram.slice(off, off + size);
    const more = off + size < datagram.length;
    out.push(ethernet([...ipv4Header('192.0.2.53', '198.51.100.7', 17, part.length, { id, frag: (more ? 0x2000 : 0) | (off / 8) }), ...part]));
  }
  return out;
}

function dnsEvents(frames: number[][], ts?: number[]): DnsEvent[] {
  const { events } = runFrames(frames.map((data, i) => ({ data, ts: ts?.[i] ?? 1_700_000_000 + i })));
  return events.filter((e): e is DnsEvent => e.type === 'dns');
}

describe('IPv4/IPv6 fragment reassembly', () => {
  const datagram = udp(53, 40000, dnsTxt(7, 1400));

  it('decodes a fragmented DNS answer once, in the frame that completes it, in any order', () => {
    const frags = v4Fragments(datagram, 512, 99);
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
      const ev = dnsEvents(order.map((i) => frags[i]!));
      expect(ev).toHaveLength(1);
      expect(ev[0]!.answers[0]!.data!.replace(/ /g, '').length).toBe(1400);
      expect(ev[0]!.tsSec).toBe(1_700_000_002); // the third frame
    }
  });

  it('reports nothing for a datagram that never completes, and nothing from its first fragment', () => {
    const frags = v4Fragments(datagram, 512, 99);
    expect(dnsEvents([frags[0]!, frags[2]!])).toHaveLength(0);
  });

  it('keeps datagrams with different ids apart, and accepts duplicated and overlapping fragments', () => {
    const a = v4Fragments(datagram, 512, 1), b = v4Fragments(udp(53, 40001, dnsTxt(8, 1400)), 512, 2);
    const ev = dnsEvents([a[0]!, b[0]!, a[1]!, a[1]!, b[1]!, b[2]!, a[2]!]);
    expect(ev.map((e) => e.id)).toEqual([8, 7]);
  });

  it('gives up on a datagram after the timeout (packet time)', () => {
    const frags = v4Fragments(datagram, 512, 99);
    const t = 1_700_000_000;
    expect(dnsEvents(frags, [t, t + 1, t + 31])).toHaveLength(0);
    expect(dnsEvents(frags, [t, t + 1, t + 29])).toHaveLength(1);
  });

  it('reassembles IPv6 fragments (fragment header)', () => {
    const id = 0x01020304;
    const frames: number[][] = [];
    for (let off = 0; off < datagram.length; off += 512) {
      const part = datagram.slice(off, off + 512);
      const more = off + 512 < datagram.length ? 1 : 0;
      const fh = [17, 0, ...u16(off | more), ...u32(id)];
      frames.push(ethernet(ipv6Packet('2001:db8::53', '2001:db8::7', 44, [...fh, ...part]), 0x86dd));
    }
    const ev = dnsEvents(frames.reverse());
    expect(ev).toHaveLength(1);
    expect([ev[0]!.src, ev[0]!.dst, ev[0]!.id]).toEqual(['2001:db8::53', '2001:db8::7', 7]);
  });

  it('is bounded: datagrams, bytes, fragments, size', () => {
    const r = new IpReassembler({ maxDatagrams: 2, maxBytes: 4096, maxFragments: 4, timeout: 30 });
    const b = Buffer.alloc(2048, 1);
    expect(r.add('a', 0, true, b, 0, 1024, 0)).toBeNull();
    expect(r.add('b', 0, true, b, 0, 1024, 0)).toBeNull();
    expect(r.add('c', 0, true, b, 0, 1024, 0)).toBeNull(); // 'a' evicted
    expect(r.size).toBe(2);
    expect(r.add('a', 1024, false, b, 0, 8, 0)).toBeNull(); // 'a' is gone: no completion
    expect(r.add('d', 0, true, b, 0, 2048, 0)).toBeNull(); // byte cap: older datagrams make room
    expect(r.size).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i++) r.add('e', i * 8, true, b, 0, 8, 0);
    expect(r.stats.dropped).toBeGreaterThanOrEqual(3);
    // 65535 bytes at most (a ping of death is dropped)
    expect(r.add('f', 65528, false, b, 0, 16, 0)).toBeNull();
    const ok = new IpReassembler();
    expect(ok.add('g', 8, false, b, 0, 8, 0)).toBeNull();
    expect(ok.add('g', 0, true, b, 0, 8, 0)?.length).toBe(16);
    expect(ok.size).toBe(0);
  });
});
