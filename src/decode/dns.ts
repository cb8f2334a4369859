/**
 * DNS message parser (RFC 1035 and successors), for UDP payloads and for
 * messages taken out of a TCP stream (the 2-byte length already removed).
 *
 * Names follow compression pointers with two guards: a pointer must point
 * strictly backwards of the label that holds it (so it cannot loop), and a
 * name is capped at 255 bytes and 128 labels. Every label byte goes through
 * safeText (a dot inside a label becomes `\.`), so a name can never carry a
 * control character into a log, nor pass for other labels. A name over 255
 * bytes is kept up to the last label that fits, and counted (nameTooLong).
 */
import { safeText, safeLabelInto } from './text.js';
import { u16be, u32be } from './bytes.js';
import { ipv4ToString, ipv6ToString } from './addr.js';
import type { DnsAnswer } from '../events/types.js';

export const QTYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS',
  12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 24: 'SIG', 25: 'KEY',
  28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 39: 'DNAME', 41: 'OPT', 42: 'APL',
  43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3',
  51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA', 55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY',
  62: 'CSYNC', 63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 108: 'EUI48', 109: 'EUI64', 249: 'TKEY',
  250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: 'ANY', 256: 'URI', 257: 'CAA',
};

export const RCODE_NAMES = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET',
  'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15',
];

export function qtypeName(t: number): string {
  return QTYPE_NAMES[t] ?? `TYPE${t}`;
}

export interface DnsMessage {
  id: number;
  isResponse: boolean;
  opcode: number;
  truncated: boolean;
  rcode: string;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  qname: string;
  qtype: string;
  answers: DnsAnswer[];
  /** a name longer than 255 bytes was cut at the last label that fits */
  nameTooLong: boolean;
  /** a name could not be read (bad or looping pointer, runs past the message): the message was read up to it */
  badName: boolean;
}

const MAX_NAME = 255;
const MAX_LABELS = 128;
/** Answers kept per message: enough for any real response, bounded for a crafted one. */
export const MAX_ANSWERS = 64;

/**
 * Reads a (possibly compressed) name at `p` within the message [base, end).
 * Returns the name and the offset after it in the original position, or null
 * when malformed (bad pointer, loop, more than 128 labels, truncated). A name
 * over 255 bytes is returned cut after the last label that fits, `tooLong` set.
 */
export function readName(buf: Buffer, base: number, end: number, p: number): { name: string; next: number; tooLong: boolean } | null {
  // The text is built in a scratch buffer and made a string once, not one string per label.
  const out = NAME_TEXT;
  let n = 0;
  let next = -1;
  let total = 0;
  let labels = 0;
  // The lowest offset we may jump to: pointers must go strictly backwards.
  let limit = p;
  for (;;) {
    if (p >= end) return null;
    const len = buf[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end) return null;
      const target = base + (((len & 0x3f) << 8) | buf[p + 1]!);
      if (next < 0) next = p + 2;
      if (target >= limit) return null; // forward or self pointer: loop guard
      limit = target;
      p = target;
      continue;
    }
    if (kind !== 0) return null; // 0x40 / 0x80: obsolete extended label types
    if (p + 1 + len > end) return null;
    total += len + 1;
    if (++labels > MAX_LABELS) return null;
    // Past 255 bytes: walk on to find where the name ends, keep no more text.
    if (total <= MAX_NAME) {
      if (n > 0) out[n++] = 0x2e;
      n = safeLabelInto(buf, p + 1, p + 1 + len, out, n);
    }
    p += 1 + len;
  }
  return { name: n === 0 ? '<Root>' : out.toString('latin1', 0, n), next, tooLong: total > MAX_NAME };
}

/** Room for the longest name: 255 bytes, every byte escaped to 4 characters. */
const NAME_TEXT = Buffer.alloc(4 * MAX_NAME + 8);

/** Parses a whole DNS message in buf[off, off+len). Returns null for anything that is not plausibly DNS. */
export function parseDns(buf: Buffer, off: number, len: number): DnsMessage | null {
  if (len < 12) return null;
  const end = off + len;
  const flags = u16be(buf, off + 2);
  const msg: DnsMessage = {
    id: u16be(buf, off),
    isResponse: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 15,
    truncated: (flags & 0x0200) !== 0,
    rcode: RCODE_NAMES[flags & 15]!,
    qdcount: u16be(buf, off + 4),
    ancount: u16be(buf, off + 6),
    nscount: u16be(buf, off + 8),
    arcount: u16be(buf, off + 10),
    qname: '',
    qtype: '',
    answers: [],
    nameTooLong: false,
    badName: false,
  };
  let p = off + 12;
  for (let i = 0; i < msg.qdcount; i++) {
    const n = readName(buf, off, end, p);
    // A malformed question still leaves a DNS header worth reporting (the
    // caller only asks for DNS on DNS ports); the name stays empty.
    if (n === null || n.next + 4 > end) { msg.badName = n === null; return msg; }
    if (n.tooLong) msg.nameTooLong = true;
    if (i === 0) {
      msg.qname = n.name;
      msg.qtype = qtypeName(u16be(buf, n.next));
    }
    p = n.next + 4;
  }
  for (let i = 0; i < msg.ancount && msg.answers.length < MAX_ANSWERS; i++) {
    const n = readName(buf, off, end, p);
    if (n === null || n.next + 10 > end) { msg.badName = n === null; break; }
    if (n.tooLong) msg.nameTooLong = true;
    const type = u16be(buf, n.next);
    const ttl = u32be(buf, n.next + 4);
    const rdlen = u16be(buf, n.next + 8);
    const rd = n.next + 10;
    if (rd + rdlen > end) break;
    msg.answers.push({ name: n.name, type: qtypeName(type), ttl, data: rdata(buf, off, end, type, rd, rdlen) });
    p = rd + rdlen;
  }
  return msg;
}

function rdata(buf: Buffer, base: number, end: number, type: number, rd: number, rdlen: number): string | null {
  switch (type) {
    case 1:
      return rdlen === 4 ? ipv4ToString(u32be(buf, rd)) : null;
    case 28:
      return rdlen === 16
        ? ipv6ToString(u32be(buf, rd), u32be(buf, rd + 4), u32be(buf, rd + 8), u32be(buf, rd + 12))
        : null;
    case 2: case 5: case 12: case 39: case 6: {
      const n = readName(buf, base, rd + rdlen, rd);
      return n ? n.name : null;
    }
    case 15: {
      const n = rdlen > 2 ? readName(buf, base, rd + rdlen, rd + 2) : null;
      return n ? n.name : null;
    }
    case 33: {
      const n = rdlen > 6 ? readName(buf, base, rd + rdlen, rd + 6) : null;
      return n ? n.name : null;
    }
    case 16: {
      const parts: string[] = [];
      let q = rd;
      const e = rd + rdlen;
      while (q < e) {
        const l = buf[q]!;
        if (q + 1 + l > e) break;
        parts.push(safeText(buf, q + 1, q + 1 + l));
        q += 1 + l;
      }
      return parts.join(' ');
    }
    default:
      void end;
      return null;
  }
}

/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766): messages framed by a 2-byte length
 * in a reassembled stream. A message split across segments (even after its
 * first byte) is gathered; one segment may carry several messages.
 */
export class DnsTcpHalf {
  private buf = Buffer.alloc(0);
  private have = 0;
  private need = -1;
  private first: unknown = null;
  private dead = false;
  /** bytes of a message the gap cut into, still to skip before the next length prefix */
  private skip = 0;
  /** framing was lost: the next segment is taken as the start of a message, on probation */
  private resync = false;

  /** onMessage gets the times of the message's first segment and of the segment that completed it */
  constructor(private readonly onMessage: (m: DnsMessage, size: number, first: unknown, last: unknown) => void) {}

  /**
   * `len` bytes are missing. Inside a message whose length we know, framing
   * survives: the rest of that message is skipped. Otherwise the next segment
   * is assumed to start a message (as a client or server writes each message
   * with its length prefix), and kept only if it parses as one with a question.
   */
  gap(len = -1): void {
    if (this.dead) return;
    if (len >= 0 && this.need >= 0 && this.need - this.have >= len) {
      // The hole lies inside the current message: that message is lost, the framing is not.
      this.skip = this.need - this.have - len;
      this.need = -1;
    } else if (len >= 0 && this.need < 0 && this.have === 0 && this.skip >= len) {
      this.skip -= len;
    } else {
      this.resync = true;
      this.skip = 0;
      this.need = -1;
    }
    this.have = 0;
  }

  /** `t` is opaque here: the time of the segment that started the message is handed back. */
  data(src: Buffer, off: number, len: number, t: unknown): void {
    const end = off + len;
    if (this.skip > 0) {
      const n = Math.min(this.skip, len);
      this.skip -= n; off += n;
    }
    while (off < end && !this.dead) {
      if (this.need < 0 && this.have === 0) this.first = t;
      if (this.need < 0) {
        // collect the 2-byte length
        if (this.buf.length < 2) this.buf = Buffer.alloc(2);
        this.buf[this.have++] = src[off++]!;
        if (this.have === 2) {
          this.need = u16be(this.buf, 0);
          this.have = 0;
          if (this.buf.length < this.need) this.buf = Buffer.alloc(this.need);
          if (this.need === 0) { this.need = -1; }
        }
        continue;
      }
      const n = Math.min(end - off, this.need - this.have);
      src.copy(this.buf, this.have, off, off + n);
      this.have += n; off += n;
      if (this.have === this.need) {
        const m = parseDns(this.buf, 0, this.need);
        if (this.resync) {
          this.resync = false;
          if (m === null || m.qdcount === 0 || m.qname === '') { this.dead = true; return; }
        }
        if (m) this.onMessage(m, this.need, this.first, t);
        this.need = -1;
        this.have = 0;
      }
    }
  }
}
