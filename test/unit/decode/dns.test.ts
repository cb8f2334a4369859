import { describe, it, expect } from 'vitest';
import { parseDns, readName, DnsTcpHalf, type DnsMessage } from '../../../src/decode/dns.js';
import { dnsName, u16, u32, ascii } from '../../helpers/craft.js';

function header(id: number, flags: number, qd: number, an: number): number[] {
  return [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), 0, 0, 0, 0];
}

const query = [...header(0x1234, 0x0100, 1, 0), ...dnsName('www.example.com'), ...u16(1), ...u16(1)];

describe('DNS messages', () => {
  it('parses a query: id, name, type', () => {
    const m = parseDns(Buffer.from(query), 0, query.length)!;
    expect(m).toMatchObject({ id: 0x1234, isResponse: false, qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', answers: [] });
  });

  it('parses a response with compressed answer names and A/CNAME/TXT/MX data', () => {
    const msg = [
      ...header(7, 0x8180, 1, 4), ...dnsName('www.example.com'), ...u16(1), ...u16(1),
      0xc0, 12, ...u16(5), ...u16(1), ...u32(300), ...u16(6), 3, ...ascii('cdn'), 0xc0, 16,
      0xc0, 12, ...u16(1), ...u16(1), ...u32(60), ...u16(4), 93, 184, 216, 34,
      0xc0, 16, ...u16(16), ...u16(1), ...u32(60), ...u16(6), 5, ...ascii('hello'),
      0xc0, 16, ...u16(15), ...u16(1), ...u32(60), ...u16(7), 0, 10, 2, ...ascii('mx'), 0xc0, 16,
    ];
    const m = parseDns(Buffer.from(msg), 0, msg.length)!;
    expect(m.isResponse).toBe(true);
    expect(m.answers).toEqual([
      { name: 'www.example.com', type: 'CNAME', ttl: 300, data: 'cdn.example.com' },
      { name: 'www.example.com', type: 'A', ttl: 60, data: '93.184.216.34' },
      { name: 'example.com', type: 'TXT', ttl: 60, data: 'hello' },
      { name: 'example.com', type: 'MX', ttl: 60, data: 'mx.example.com' },
    ]);
  });

  it('names response codes and unknown types', () => {
    const nx = [...header(1, 0x8183, 1, 0), ...dnsName('nope.test'), ...u16(65), ...u16(1)];
    expect(parseDns(Buffer.from(nx), 0, nx.length)).toMatchObject({ rcode: 'NXDOMAIN', qtype: 'HTTPS' });
    const odd = [...header(1, 0x8185, 1, 0), ...dnsName('x'), ...u16(65280), ...u16(1)];
    expect(parseDns(Buffer.from(odd), 0, odd.length)).toMatchObject({ rcode: 'REFUSED', qtype: 'TYPE65280' });
  });

  it('refuses a compression pointer to itself (loop) and a forward pointer', () => {
    const self = Buffer.from([...header(1, 0, 1, 0), 0xc0, 12, 0, 1, 0, 1]);
    expect(readName(self, 0, self.length, 12)).toBeNull();
    const fwd = Buffer.from([...header(1, 0, 1, 0), 0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 0x61, 0]);
    expect(readName(fwd, 0, fwd.length, 12)).toBeNull();
  });

  it('refuses a pointer chain that loops between two names', () => {
    // name at 12 points to 14, name at 14 points back to 12
    const b = Buffer.from([...header(1, 0, 1, 0), 0xc0, 14, 0xc0, 12]);
    expect(readName(b, 0, b.length, 14)).toBeNull();
  });

  it('cuts a name over 255 bytes after the last label that fits, says so, and still reads the rest of the message', () => {
    const label = (c: number) => [63, ...Array(63).fill(c)];
    const long = [...label(0x61), ...label(0x62), ...label(0x63), ...label(0x64), ...label(0x65)];
    const b = Buffer.from([...header(1, 0x8180, 1, 1), ...long, 0, ...u16(16), 0, 1,
      0xc0, 12, ...u16(16), ...u16(1), ...u32(60), ...u16(3), 2, 0x68, 0x69]);
    const n = readName(b, 0, b.length, 12)!;
    expect(n.tooLong).toBe(true);
    expect(n.name).toBe(['a', 'b', 'c'].map((c) => c.repeat(63)).join('.'));
    expect(n.next).toBe(12 + long.length + 1);
    const m = parseDns(b, 0, b.length)!;
    expect(m).toMatchObject({ nameTooLong: true, badName: false, qtype: 'TXT', qname: n.name });
    expect(m.answers).toMatchObject([{ type: 'TXT', data: 'hi', name: n.name }]);
  });

  it('escapes a literal dot inside a label (dig-style \\.), so one label "a.b" differs from two labels', () => {
    const one = [...header(1, 0, 1, 0), 3, 0x61, 0x2e, 0x62, 1, 0x63, 0, 0, 1, 0, 1];
    const two = [...header(1, 0, 1, 0), ...dnsName('a.b.c'), 0, 1, 0, 1];
    expect(parseDns(Buffer.from(one), 0, one.length)!.qname).toBe('a\\.b.c');
    expect(parseDns(Buffer.from(two), 0, two.length)!.qname).toBe('a.b.c');
  });

  it('marks a message whose question name cannot be read (a pointer loop)', () => {
    const b = Buffer.from([...header(1, 0, 1, 0), 0xc0, 12, 0, 1, 0, 1]);
    expect(parseDns(b, 0, b.length)).toMatchObject({ qname: '', badName: true });
  });

  it('escapes control and non-ASCII bytes in names so they cannot reach a log raw', () => {
    const evil = [...header(1, 0, 1, 0), 5, 0x61, 0x0a, 0x1b, 0x5c, 0xff, 3, ...ascii('com'), 0, 0, 1, 0, 1];
    const m = parseDns(Buffer.from(evil), 0, evil.length)!;
    expect(m.qname).toBe('a\\x0a\\x1b\\x5c\\xff.com');
  });

  it('returns null for payloads shorter than a header and keeps the header of a malformed question', () => {
    expect(parseDns(Buffer.from([1, 2, 3]), 0, 3)).toBeNull();
    const cut = [...header(9, 0x0100, 1, 0), 10, 0x61];
    expect(parseDns(Buffer.from(cut), 0, cut.length)).toMatchObject({ id: 9, qname: '' });
  });

  it('stops reading answers at the end of the message instead of overrunning', () => {
    const msg = [...header(7, 0x8180, 1, 3), ...dnsName('a.b'), ...u16(1), ...u16(1), 0xc0, 12, ...u16(1), ...u16(1), ...u32(1), ...u16(4), 1, 2];
    expect(parseDns(Buffer.from(msg), 0, msg.length)!.answers).toEqual([]);
  });
});

describe('DNS over TCP framing', () => {
  it('reassembles a message whose length prefix is split after one byte, and several per segment', () => {
    const got: DnsMessage[] = [];
    const h = new DnsTcpHalf((m) => got.push(m));
    const framed = [...u16(query.length), ...query];
    h.data(Buffer.from(framed.slice(0, 1)), 0, 1, 1);
    h.data(Buffer.from(framed.slice(1)), 0, framed.length - 1, 2);
    const two = Buffer.from([...framed, ...framed]);
    h.data(two, 0, two.length, 3);
    expect(got.map((m) => m.qname)).toEqual(['www.example.com', 'www.example.com', 'www.example.com']);
  });
});
