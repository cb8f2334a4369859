import { describe, it, expect } from 'vitest';
import { Packet, DecodeIssue, DECODE_ISSUE_NAMES } from '../../../src/decode/packet.js';
import { decodePacket } from '../../../src/decode/decode.js';
import { ipv4ToString, ipv6ToString } from '../../../src/decode/addr.js';
import { ethernet, ipv4Packet, ipv6Packet, ipv6ExtChain, tcp, udp, u16, u32 } from '../../helpers/craft.js';

function dec(data: number[], linktype = 1): { p: Packet; issue: DecodeIssue } {
  const p = new Packet();
  const b = Buffer.from(data);
  const issue = decodePacket(p, linktype, b, 0, b.length);
  return { p, issue };
}

const syn = ipv4Packet('192.168.1.2', '10.0.0.1', 6, tcp(40000, 80, 0x02));

describe('link layers', () => {
  it('decodes plain Ethernet II', () => {
    const { p, issue } = dec(ethernet(syn));
    expect(issue).toBe(DecodeIssue.None);
    expect([ipv4ToString(p.s0), ipv4ToString(p.d0), p.sport, p.dport, p.tcpFlags]).toEqual(['192.168.1.2', '10.0.0.1', 40000, 80, 2]);
  });
  it('skips an 802.1Q tag and keeps its VLAN id', () => {
    const { p } = dec(ethernet(syn, 0x0800, [{ tpid: 0x8100, vid: 42 }]));
    expect(p.vlan).toBe(42);
    expect(p.dport).toBe(80);
  });
  it('skips 802.1ad + 802.1Q (QinQ) and the old 0x9100 outer tag', () => {
    expect(dec(ethernet(syn, 0x0800, [{ tpid: 0x88a8, vid: 100 }, { tpid: 0x8100, vid: 200 }])).p.dport).toBe(80);
    expect(dec(ethernet(syn, 0x0800, [{ tpid: 0x9100, vid: 1 }, { tpid: 0x8100, vid: 2 }])).p.vlan).toBe(1);
  });
  it('walks an MPLS label stack to the IP header', () => {
    const frame = ethernet([...u32((16 << 12) | 0), ...u32((17 << 12) | 0x100), ...syn], 0x8847);
    expect(dec(frame).p.dport).toBe(80);
  });
  it('decodes Linux cooked v1 and v2 headers', () => {
    const sll = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...u16(0x0800), ...syn];
    expect(dec(sll, 113).p.dport).toBe(80);
    const sll2 = [...u16(0x0800), 0, 0, ...u32(2), 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...syn];
    expect(dec(sll2, 276).p.dport).toBe(80);
  });
  it('decodes BSD loopback in both byte orders and LOOP', () => {
    expect(dec([2, 0, 0, 0, ...syn], 0).p.dport).toBe(80);
    expect(dec([0, 0, 0, 2, ...syn], 0).p.dport).toBe(80);
    expect(dec([0, 0, 0, 2, ...syn], 108).p.dport).toBe(80);
    const v6 = ipv6Packet('2001:db8::1', '2001:db8::2', 6, tcp(1, 443, 2));
    expect(dec([30, 0, 0, 0, ...v6], 0).p.ipVer).toBe(6);
  });
  it('decodes raw IPv4 and IPv6 (LINKTYPE_RAW, IPV4, IPV6)', () => {
    expect(dec(syn, 101).p.dport).toBe(80);
    expect(dec(syn, 228).p.dport).toBe(80);
    expect(dec(ipv6Packet('::1', '::2', 17, udp(5, 53, [])), 229).p.dport).toBe(53);
  });
  it('reports truncated link headers, non-IP frames and unknown link types', () => {
    expect(dec([1, 2, 3]).issue).toBe(DecodeIssue.TruncatedLink);
    expect(dec(ethernet([1, 2, 3], 0x0806)).issue).toBe(DecodeIssue.NotIp);
    expect(dec(syn, 147).issue).toBe(DecodeIssue.UnknownLinktype);
  });
});

describe('IPv4', () => {
  it('honours header options', () => {
    const pkt = ipv4Packet('1.2.3.4', '5.6.7.8', 6, tcp(1, 2, 2), { options: [1, 1, 1, 0] });
    expect(dec(pkt, 101).p.dport).toBe(2);
  });
  it('decodes the first fragment and only counts later ones', () => {
    const first = dec(ipv4Packet('1.2.3.4', '5.6.7.8', 17, udp(1, 53, [0, 0]), { frag: 0x2000 }), 101).p;
    expect([first.firstFragment, first.laterFragment, first.dport]).toEqual([true, false, 53]);
    const later = dec(ipv4Packet('1.2.3.4', '5.6.7.8', 17, [9, 9, 9, 9, 9, 9, 9, 9], { frag: 185 }), 101).p;
    expect([later.laterFragment, later.hasL4]).toEqual([true, false]);
  });
  it('ignores Ethernet padding after the datagram', () => {
    const p = dec(ethernet([...ipv4Packet('1.2.3.4', '5.6.7.8', 6, tcp(1, 2, 0x10)), 0, 0, 0, 0, 0, 0])).p;
    expect(p.payLen).toBe(0);
  });
  it('rejects a header length below 20 bytes', () => {
    const bad = ipv4Packet('1.2.3.4', '5.6.7.8', 6, tcp(1, 2, 2));
    bad[0] = 0x44;
    expect(dec(bad, 101).issue).toBe(DecodeIssue.BadIpHeader);
  });
  it('takes the endpoints of the innermost header in IP-in-IP', () => {
    const inner = ipv4Packet('10.1.1.1', '10.2.2.2', 6, tcp(5, 6, 2));
    const p = dec(ipv4Packet('1.1.1.1', '2.2.2.2', 4, inner), 101).p;
    expect([ipv4ToString(p.s0), p.dport]).toEqual(['10.1.1.1', 6]);
  });
});

describe('IPv6', () => {
  it('walks hop-by-hop, routing and destination-options headers', () => {
    const hbh = [60, 0, 1, 4, 0, 0, 0, 0];
    const dst = [43, 0, 1, 4, 0, 0, 0, 0];
    const rt = [6, 0, 0, 0, 0, 0, 0, 0];
    const p = dec(ipv6Packet('2001:db8::1', '2001:db8::2', 0, [...hbh, ...dst, ...rt, ...tcp(1, 22, 2)]), 101).p;
    expect([p.proto, p.dport]).toEqual([6, 22]);
  });
  it('follows a chain of 100 extension headers to the TCP header behind it (bounded by length, not a count)', () => {
    for (const n of [16, 17, 100, 1000]) {
      const [first, chain] = ipv6ExtChain(n, 6, tcp(1, 22, 2));
      const { p, issue } = dec(ipv6Packet('2001:db8::1', '2001:db8::2', first, chain), 101);
      expect([issue, p.proto, p.dport, p.tcpFlags], `${n} headers`).toEqual([DecodeIssue.None, 6, 22, 2]);
    }
  });
  it('gives up on a chain that runs past the packet, and names why (ipv6_ext_chain)', () => {
    const [first, chain] = ipv6ExtChain(30, 6, []);
    const { issue } = dec(ipv6Packet('2001:db8::1', '2001:db8::2', first, chain.slice(0, 30 * 8 - 8)), 101);
    expect(DECODE_ISSUE_NAMES[issue]).toBe('ipv6_ext_chain');
    // A header whose length field points past the payload length, even with bytes captured after it.
    const lying = [...ipv6Packet('2001:db8::1', '2001:db8::2', 60, [60, 200, 0, 0, 0, 0, 0, 0]), ...new Array(100).fill(0)];
    expect(DECODE_ISSUE_NAMES[dec(lying, 101).issue]).toBe('ipv6_ext_chain');
  });
  it('decodes an atomic fragment and marks later fragments', () => {
    const atomic = dec(ipv6Packet('::1', '::2', 44, [17, 0, 0, 0, 0, 0, 0, 1, ...udp(1, 53, [])]), 101).p;
    expect([atomic.laterFragment, atomic.dport]).toEqual([false, 53]);
    const later = dec(ipv6Packet('::1', '::2', 44, [17, 0, 0x05, 0x00, 0, 0, 0, 1, 1, 2, 3, 4]), 101).p;
    expect(later.laterFragment).toBe(true);
  });
  it('formats addresses in RFC 5952 form', () => {
    expect(ipv6ToString(0x20010db8, 0, 0, 1)).toBe('2001:db8::1');
    expect(ipv6ToString(0xfe800000, 0, 0x02000000, 0)).toBe('fe80::200:0:0:0'); // two equal zero runs: the first is compressed
    expect(ipv6ToString(0, 0, 0xffff, 0x0a000001)).toBe('::ffff:10.0.0.1');
    expect(ipv6ToString(0x20010db8, 0x00010001, 0x00010001, 0x00010001)).toBe('2001:db8:1:1:1:1:1:1');
  });
});

describe('TCP', () => {
  it('still yields ports and flags when the snap length cuts the header inside its options', () => {
    const full = ipv4Packet('1.2.3.4', '5.6.7.8', 6, tcp(1234, 80, 0x02, [], 1, 0, [2, 4, 5, 0xb4, 1, 1, 4, 2]));
    const cut = full.slice(0, 20 + 16);
    const p = new Packet();
    const b = Buffer.from(cut);
    decodePacket(p, 101, b, 0, b.length);
    expect([p.hasL4, p.sport, p.dport, p.tcpFlags, p.payLen]).toEqual([true, 1234, 80, 2, 0]);
  });
  it('computes payload length on the wire even when the capture is cut', () => {
    const pkt = ipv4Packet('1.2.3.4', '5.6.7.8', 6, tcp(1, 2, 0x18, Array(100).fill(65)));
    const p = new Packet();
    const b = Buffer.from(pkt);
    decodePacket(p, 101, b, 0, 60);
    expect([p.payWire, p.payLen]).toEqual([100, 20]);
  });
});
