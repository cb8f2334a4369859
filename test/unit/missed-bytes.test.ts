/** Zeek's missed_bytes on conn summaries: payload bytes never captured, from sequence numbers. */
import { describe, it, expect } from 'vitest';
import { ethernet, ipv4Packet, tcp, ascii } from '../helpers/craft.js';
import { Pipeline } from '../../src/pipeline.js';
import type { ConnEvent, NetEvent } from '../../src/events/types.js';

const C = '10.0.0.1', S = '10.0.0.2';
const SYN = 0x02, ACK = 0x10, FIN = 0x01, PSH = 0x08;
const c2s = (flags: number, payload: number[] = [], seq = 100, ack = 0, dport = 9000) => ethernet(ipv4Packet(C, S, 6, tcp(40000, dport, flags, payload, seq, ack)));
const s2c = (flags: number, payload: number[] = [], seq = 500, ack = 0, sport = 9000) => ethernet(ipv4Packet(S, C, 6, tcp(sport, 40000, flags, payload, seq, ack)));
const data = (n: number) => new Array<number>(n).fill(0x61);

/** Frames with an optional captured length (snap length) each. */
function run(frames: { data: number[]; caplen?: number }[]): ConnEvent {
  const events: NetEvent[] = [];
  const p = new Pipeline({ detectors: [], onEvent: (e) => events.push(e), onAlert: () => {} });
  frames.forEach((f, i) => {
    const b = Buffer.from(f.data);
    p.packet(1, 1000 + i, 0, b, 0, f.caplen ?? b.length, b.length, 6);
  });
  p.finish();
  return events.find((e): e is ConnEvent => e.type === 'conn')!;
}

const handshake = [
  { data: c2s(SYN, [], 100) }, { data: s2c(SYN | ACK, [], 500, 101) }, { data: c2s(ACK, [], 101, 501) },
];

describe('missed_bytes', () => {
  it('is 0 for a connection captured whole (retransmissions are not missed bytes)', () => {
    const c = run([...handshake,
      { data: c2s(ACK | PSH, data(100), 101, 501) }, { data: c2s(ACK | PSH, data(100), 101, 501) },
      { data: c2s(ACK | PSH, data(50), 201, 501) }, { data: c2s(FIN | ACK, [], 251, 501) }, { data: s2c(FIN | ACK, [], 501, 252) }]);
    expect(c.missed_bytes).toBe(0);
    expect(c.orig_bytes).toBe(250);
  });

  it('counts a lost segment in either direction', () => {
    const c = run([...handshake,
      { data: c2s(ACK | PSH, data(100), 101, 501) },
      // 300 bytes from the client never captured
      { data: c2s(ACK | PSH, data(100), 501, 501) },
      { data: s2c(ACK | PSH, data(10), 501, 601) },
      { data: s2c(ACK | PSH, data(10), 531, 601) }, // 20 from the server lost
    ]);
    expect(c.missed_bytes).toBe(320);
  });

  it('takes a reordered segment that fills the hole back out', () => {
    const c = run([...handshake,
      { data: c2s(ACK | PSH, data(100), 201, 501) }, // arrives before 101..201
      { data: c2s(ACK | PSH, data(100), 101, 501) },
      { data: c2s(ACK | PSH, data(100), 301, 501) },
    ]);
    expect(c.missed_bytes).toBe(0);
  });

  it('counts the tail of segments cut by the snap length', () => {
    const seg = c2s(ACK | PSH, ascii('GET / HTTP/1.1\r\n' + 'x'.repeat(200)), 101, 501, 80);
    const c = run([{ data: c2s(SYN, [], 100, 0, 80) }, { data: s2c(SYN | ACK, [], 500, 101, 80) }, { data: seg, caplen: 128 }]);
    expect(c.missed_bytes).toBe(seg.length - 128);
  });

  it('does not take a sequence number far outside any window for lost bytes', () => {
    const c = run([...handshake, { data: c2s(ACK | PSH, data(10), 101, 501) }, { data: c2s(ACK | PSH, data(10), 0x80000000, 501) }]);
    expect(c.missed_bytes).toBe(0);
  });
});
