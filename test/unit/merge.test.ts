import { describe, it, expect } from 'vitest';
import { readMerged } from '../../src/capture/merge.js';
import { CHUNK_SIZE } from '../../src/capture/reader.js';
import { pcapFile, Pcapng, ethernet, ipv4Packet, udp } from '../helpers/craft.js';
import { RecordingSink, tempFile } from '../helpers/collect.js';

/** a frame whose first byte (the destination MAC's first octet) names the input and packet */
const frame = (tag: number, pad = 3): number[] => {
  const f = ethernet(ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(1000, 2000, new Array<number>(pad).fill(0))));
  f[0] = tag;
  return f;
};

describe('readMerged: several captures as one packet-time stream', () => {
  it('interleaves two files by timestamp, keeping each file complete', async () => {
    const a = tempFile('a.pcap', pcapFile([1, 3, 5, 7].map((s, i) => ({ sec: s, frac: 0, data: frame(0x10 + i) }))));
    const b = tempFile('b.pcap', pcapFile([2, 4, 6].map((s, i) => ({ sec: s, frac: 0, data: frame(0x20 + i) }))));
    const sink = new RecordingSink();
    const r = await readMerged([a, b], sink);
    expect(sink.packets.map((p) => p.sec)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(sink.packets.map((p) => p.first)).toEqual([0x10, 0x20, 0x11, 0x21, 0x12, 0x22, 0x13]);
    expect(r.map((x) => x.result.packets)).toEqual([4, 3]);
  });

  it('orders by nanoseconds within a second across µs and ns files, pcap and pcapng', async () => {
    const us = tempFile('us.pcap', pcapFile([{ sec: 10, frac: 5, data: frame(1) }, { sec: 10, frac: 7, data: frame(2) }]));
    const ns = tempFile('ns.pcap', pcapFile([{ sec: 10, frac: 6000, data: frame(3) }, { sec: 10, frac: 6001, data: frame(4) }], { ns: true }));
    const ng = tempFile('c.pcapng', new Pcapng().shb().idb(1, 9).epb(0, 10_000_000_000n + 5_500n, frame(5)).build());
    const sink = new RecordingSink();
    await readMerged([us, ns, ng], sink);
    expect(sink.packets.map((p) => [p.nsec, p.first])).toEqual([[5000, 1], [5500, 5], [6000, 3], [6001, 4], [7000, 2]]);
    expect(sink.packets.map((p) => p.digits)).toEqual([6, 9, 9, 9, 6]);
  });

  it('equal timestamps: the earlier-named input first, whatever order it was opened', async () => {
    const a = tempFile('a.pcap', pcapFile([{ sec: 1, frac: 0, data: frame(0xa) }]));
    const b = tempFile('b.pcap', pcapFile([{ sec: 1, frac: 0, data: frame(0xb) }]));
    const s1 = new RecordingSink();
    await readMerged([a, b], s1);
    const s2 = new RecordingSink();
    await readMerged([b, a], s2);
    expect(s1.packets.map((p) => p.first)).toEqual([0xa, 0xb]);
    expect(s2.packets.map((p) => p.first)).toEqual([0xb, 0xa]);
  });

  it('keeps each packet\'s bytes valid across refills of files larger than one chunk', async () => {
    // ~1500-byte frames: each file spans several 4 MiB chunks, so batches refill mid-merge
    const n = Math.ceil((2.5 * CHUNK_SIZE) / 1500);
    const a = tempFile('big-a.pcap', pcapFile(Array.from({ length: n }, (_, i) => ({ sec: 2 * i, frac: 0, data: frame(0x41, 1450) }))));
    const b = tempFile('big-b.pcap', pcapFile(Array.from({ length: n }, (_, i) => ({ sec: 2 * i + 1, frac: 0, data: frame(0x42, 1450) }))));
    const sink = new RecordingSink();
    await readMerged([a, b], sink);
    expect(sink.packets).toHaveLength(2 * n);
    sink.packets.forEach((p, i) => {
      expect(p.sec).toBe(i);
      expect(p.first).toBe(i % 2 === 0 ? 0x41 : 0x42);
    });
  });

  it('a truncated input ends with a warning; the other inputs are merged to their end', async () => {
    const full = pcapFile([1, 2, 3].map((s) => ({ sec: s, frac: 0, data: frame(1) })));
    const cut = tempFile('cut.pcap', full.subarray(0, full.length - 5));
    const ok = tempFile('ok.pcap', pcapFile([1.5, 2.5, 3.5, 4.5].map((s) => ({ sec: Math.floor(s), frac: 500000, data: frame(2) }))));
    const sink = new RecordingSink();
    const r = await readMerged([cut, ok], sink);
    expect(sink.packets).toHaveLength(6);
    expect(r[0]!.result.warning).toMatch(/truncated last record .*read 2 packets/);
    expect(r[1]!.result).toEqual({ packets: 4, bytes: 4 * frame(2).length });
  });

  it('an input that is not a capture is left out with an error; the rest is still merged', async () => {
    const bad = tempFile('bad.pcap', Buffer.from('garbage!garbage!'));
    const ok = tempFile('ok.pcap', pcapFile([{ sec: 1, frac: 0, data: frame(1) }]));
    const sink = new RecordingSink();
    const r = await readMerged([bad, ok], sink);
    expect(r[0]!.error?.message).toMatch(/bad\.pcap: not a pcap or pcapng capture/);
    expect(sink.packets).toHaveLength(1);
  });

  it('counts the bytes it reads for the progress line', async () => {
    const a = tempFile('a.pcap', pcapFile([{ sec: 1, frac: 0, data: frame(1) }]));
    const b = tempFile('b.pcap', pcapFile([{ sec: 2, frac: 0, data: frame(2) }, { sec: 3, frac: 0, data: frame(3) }]));
    const progress = { bytes: 0 };
    await readMerged([a, b], new RecordingSink(), progress);
    expect(progress.bytes).toBe(24 + 16 + frame(1).length + 24 + 2 * (16 + frame(1).length));
  });
});
