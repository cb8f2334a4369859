import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PacketRing } from '../../../src/flows/packet-ring.js';
import { PcapLog, pcapName } from '../../../src/alerts/pcap-log.js';
import type { Alert } from '../../../src/alerts/types.js';

const frame = (n: number, len = 60): Buffer => Buffer.alloc(len, n & 255);
const add = (r: PacketRing, key: string, i: number, len = 60, orig = '10.0.0.1', resp = '10.0.0.2', dport = 80): void =>
  r.add(key, orig, resp, dport, 1, 1000 + i, 0, frame(i, len), 0, len, len);

describe('PacketRing', () => {
  it('keeps the first half and the latest half of a flow', () => {
    const r = new PacketRing({ flowPackets: 4 });
    for (let i = 0; i < 10; i++) add(r, 'C1', i);
    expect(r.get('C1')!.packets().map((p) => p.sec - 1000)).toEqual([0, 1, 8, 9]);
    expect(r.get('C1')!.dropped).toBe(6);
  });

  it('bounds a flow by bytes and cuts packets to snaplen', () => {
    const r = new PacketRing({ flowPackets: 100, flowBytes: 256 + 5 * (100 + 64), snaplen: 100 });
    for (let i = 0; i < 20; i++) add(r, 'C1', i, 1500);
    const kept = r.get('C1')!.packets();
    expect(kept.every((p) => p.data.length === 100 && p.wirelen === 1500)).toBe(true);
    expect(kept.length).toBe(5);
  });

  it('forgets the oldest flows beyond ringBytes, whatever the traffic (a spoofed flood of one-packet flows)', () => {
    const r = new PacketRing({ ringBytes: 100_000 });
    for (let i = 0; i < 100_000; i++) add(r, `C${i}`, i, 60, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const s = r.snapshot();
    expect(s.bytes).toBeLessThanOrEqual(100_000);
    expect(s.flows).toBe(100_000 - s.evicted);
    expect(r.get('C0')).toBeUndefined();
    expect(r.get('C99999')).toBeDefined();
  });

  it('selects the named flows and the flows between the endpoints within the evidence span', () => {
    const r = new PacketRing();
    add(r, 'A', 0, 60, 'x', 'y', 22);
    add(r, 'B', 1, 60, 'x', 'y', 80);
    add(r, 'C', 2, 60, 'y', 'x', 22);
    add(r, 'D', 500, 60, 'x', 'y', 22); // long after
    add(r, 'E', 3, 60, 'x', 'z', 22);
    const span = { ts_first: 1000, ts_last: 1003 };
    expect(r.select({ src: 'x', dst: 'y', dport: 22, ...span }, [], 10).map((f) => f.key)).toEqual(['C', 'A']);
    expect(r.select({ src: 'x', dst: 'y', ...span }, [], 10).map((f) => f.key)).toEqual(['C', 'B', 'A']);
    expect(r.select({ src: 'x', ...span }, ['D'], 10).map((f) => f.key)).toEqual(['E', 'B', 'A']);
    expect(r.select({ src: 'x', ...span }, ['A'], 2).map((f) => f.key)).toEqual(['A', 'E']);
  });
});

describe('PcapLog', () => {
  const alert = (id: string, o: Partial<Alert> = {}): Alert => ({
    id, kind: 'port_scan', severity: 'high', confidence: 1, src: '10.0.0.1', dst: '10.0.0.2', ts: 1000, ts_first: 1000, ts_last: 1010,
    summary: 's', evidence: {}, ...o,
  });

  it('writes a nanosecond pcap of the flows, names it after the alert, rewrites it for an update with more packets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapwatch-pcaplog-'));
    const r = new PacketRing();
    for (let i = 0; i < 3; i++) add(r, `C${i}`, i);
    const log = new PcapLog({ dir });
    expect(log.forAlert(alert('AbC1'), r)).toBe('alert-AbC1.pcap');
    let f = readFileSync(join(dir, 'alert-AbC1.pcap'));
    expect(f.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(f.readUInt32LE(20)).toBe(1);
    expect(f.length).toBe(24 + 3 * (16 + 60));
    expect(log.forAlert(alert('AbC1'), r)).toBe('alert-AbC1.pcap'); // a repeat of the same id: the same file
    add(r, 'C9', 9);
    expect(log.forAlert(alert('AbC1', { update: true }), r)).toBe('alert-AbC1.pcap');
    f = readFileSync(join(dir, 'alert-AbC1.pcap'));
    expect(f.length).toBe(24 + 4 * (16 + 60));
    expect(log.stats).toMatchObject({ files: 1, rewritten: 1, packets: 4 });
  });

  it('rotates by count and total bytes; no kept packet, no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapwatch-pcaplog-'));
    const r = new PacketRing();
    add(r, 'C0', 0);
    const log = new PcapLog({ dir, maxFiles: 2 });
    for (const id of ['A1', 'A2', 'A3']) log.forAlert(alert(id), r);
    expect(readdirSync(dir).sort()).toEqual(['alert-A2.pcap', 'alert-A3.pcap']);
    expect(log.forAlert(alert('A4', { src: 'nobody', dst: 'none' }), r)).toBeNull();
    const log2 = new PcapLog({ dir, totalBytes: 250 }); // a new run counts the files already there
    log2.forAlert(alert('B1'), r);
    expect(readdirSync(dir).sort()).toEqual(['alert-A3.pcap', 'alert-B1.pcap']);
    expect(log2.stats.rotated).toBe(1);
  });

  it('makes a safe file name of any id', () => {
    expect(pcapName('../../etc/x y')).toBe('alert-______etc_x_y.pcap');
  });
});
