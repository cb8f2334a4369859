import { describe, it, expect } from 'vitest';
import { readCapture, readCaptureStream, InputError } from '../../src/capture/reader.js';
import { pcapFile, Pcapng, ethernet, ipv4Packet, udp } from '../helpers/craft.js';
import { RecordingSink, tempFile } from '../helpers/collect.js';

const frame = ethernet(ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(1000, 2000, [1, 2, 3])));

describe('classic pcap', () => {
  for (const le of [true, false]) {
    for (const ns of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${ns ? 'nanosecond' : 'microsecond'} files with exact timestamps`, async () => {
        const path = tempFile('a.pcap', pcapFile([
          { sec: 1700000000, frac: ns ? 123456789 : 123456, data: frame },
          { sec: 1700000001, frac: ns ? 999999999 : 999999, data: frame, orig: 1514 },
        ], { le, ns }));
        const sink = new RecordingSink();
        const r = await readCapture(path, sink);
        expect(r).toEqual({ packets: 2, bytes: 2 * frame.length });
        expect(sink.packets[0]).toMatchObject({ linktype: 1, sec: 1700000000, nsec: ns ? 123456789 : 123456000, digits: ns ? 9 : 6, caplen: frame.length });
        expect(sink.packets[1]).toMatchObject({ nsec: ns ? 999999999 : 999999000, wirelen: 1514 });
      });
    }
  }

  it('takes the link type from the low 16 bits (upper bits carry FCS information)', async () => {
    const path = tempFile('fcs.pcap', pcapFile([{ sec: 1, frac: 0, data: frame }], { linktype: 0x14000001 }));
    const sink = new RecordingSink();
    await readCapture(path, sink);
    expect(sink.packets[0]!.linktype).toBe(1);
  });

  it('stops at a truncated last record with a warning that counts the packets read', async () => {
    const full = pcapFile([{ sec: 1, frac: 0, data: frame }, { sec: 2, frac: 0, data: frame }]);
    const path = tempFile('cut.pcap', full.subarray(0, full.length - 5));
    const sink = new RecordingSink();
    const r = await readCapture(path, sink);
    expect(r.packets).toBe(1);
    expect(r.warning).toMatch(/truncated last record .* read 1 packets/);
  });

  it('stops at a corrupt record length without reading garbage as packets', async () => {
    const good = pcapFile([{ sec: 1, frac: 0, data: frame }]);
    const bad = Buffer.alloc(16 + 64);
    bad.writeUInt32LE(2, 0);
    bad.writeUInt32LE(0xea000000, 8); // 3.9 GB captured length
    const path = tempFile('corrupt.pcap', Buffer.concat([good, bad]));
    const sink = new RecordingSink();
    const r = await readCapture(path, sink);
    expect(r.packets).toBe(1);
    expect(r.warning).toMatch(/corrupt record 2: captured length \d+ exceeds/);
  });

  it('reads records that straddle chunk boundaries through the stream path (stdin)', async () => {
    const recs = Array.from({ length: 5000 }, (_, i) => ({ sec: 1000 + i, frac: i, data: frame }));
    const path = tempFile('many.pcap', pcapFile(recs));
    const sink = new RecordingSink();
    const r = await readCaptureStream(path, sink);
    expect(r.packets).toBe(5000);
    expect(sink.packets[4999]!.sec).toBe(5999);
  });
});

describe('pcapng', () => {
  it('reads enhanced, simple and obsolete packet blocks and skips unknown blocks', async () => {
    const b = new Pcapng().shb().idb(1).epb(0, 1700000000123456n, frame).unknown().spb(frame).opb(0, 1700000001000001n, frame).build();
    const sink = new RecordingSink();
    const r = await readCapture(tempFile('a.pcapng', b), sink);
    expect(r.packets).toBe(3);
    expect(sink.packets[0]).toMatchObject({ sec: 1700000000, nsec: 123456000, digits: 6 });
    // a simple packet block has no timestamp: it inherits the last one
    expect(sink.packets[1]).toMatchObject({ sec: 1700000000, nsec: 123456000 });
    expect(sink.packets[2]).toMatchObject({ sec: 1700000001, nsec: 1000 });
  });

  it('honours if_tsresol per interface and link types per interface', async () => {
    const b = new Pcapng().shb().idb(1, 9).idb(113, 6).epb(0, 1700000000123456789n, frame).epb(1, 1700000000123456n, [0, 0, 0, 0]).build();
    const sink = new RecordingSink();
    await readCapture(tempFile('multi.pcapng', b), sink);
    expect(sink.packets[0]).toMatchObject({ linktype: 1, sec: 1700000000, nsec: 123456789, digits: 9 });
    expect(sink.packets[1]).toMatchObject({ linktype: 113, sec: 1700000000, nsec: 123456000, digits: 6 });
  });

  it('reads a big-endian section, and a second section resets the interfaces', async () => {
    const b = Buffer.concat([
      new Pcapng(false).shb(false).idb(101).epb(0, 5000000n, [0x45]).build(),
      new Pcapng(true).shb(true).idb(1).epb(0, 7000000n, frame).build(),
    ]);
    const sink = new RecordingSink();
    const r = await readCapture(tempFile('be.pcapng', b), sink);
    expect(r.packets).toBe(2);
    expect(sink.packets.map((p) => [p.linktype, p.sec])).toEqual([[101, 5], [1, 7]]);
  });

  it('handles a binary if_tsresol (2^-20 s) exactly', async () => {
    const b = new Pcapng().shb().idb(1, 0x80 | 20).epb(0, (10n << 20n) + (1n << 19n), frame).build();
    const sink = new RecordingSink();
    await readCapture(tempFile('bin.pcapng', b), sink);
    expect(sink.packets[0]).toMatchObject({ sec: 10, nsec: 500000000 });
  });

  it('reports a packet that names an undescribed interface as corrupt, keeping earlier packets', async () => {
    const b = new Pcapng().shb().idb(1).epb(0, 1n, frame).epb(3, 2n, frame).build();
    const sink = new RecordingSink();
    const r = await readCapture(tempFile('badif.pcapng', b), sink);
    expect(r.packets).toBe(1);
    expect(r.warning).toMatch(/interface 3/);
  });
});

describe('inputs that are not captures', () => {
  it('rejects a text file with the magic it found', async () => {
    await expect(readCapture(tempFile('x.txt', Buffer.from('hello world')), new RecordingSink())).rejects.toThrow(/not a pcap or pcapng capture \(unknown magic 68656c6c\)/);
  });
  it('rejects an empty file', async () => {
    await expect(readCapture(tempFile('empty.pcap', Buffer.alloc(0)), new RecordingSink())).rejects.toBeInstanceOf(InputError);
  });
  it('names a missing file', async () => {
    await expect(readCapture('/nonexistent/x.pcap', new RecordingSink())).rejects.toThrow('/nonexistent/x.pcap: no such file');
  });
});
