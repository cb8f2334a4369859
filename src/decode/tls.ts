/**
 * TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the one cleartext
 * message of a TLS connection that says where the client is going. Read from
 * the client's reassembled stream: the handshake records (content type 22)
 * that carry the ClientHello are gathered, across segments and across
 * records, up to MAX_HELLO bytes; then its version, cipher suites,
 * extensions, server name (SNI) and ALPN protocol list are read. Nothing
 * after the ClientHello is looked at (the rest is encrypted).
 *
 * Malformed input: a record that is not a handshake record, a first message
 * that is not a ClientHello, a fixed part (version, random, session id,
 * cipher suites, compression methods) that does not fit, a message larger
 * than the bound or a gap in the stream give no hello at all. An extension
 * whose length runs past the extensions block ends the reading of extensions:
 * what was read before it is reported. Server names and ALPN protocol names
 * become text through safeText (src/decode/text.ts) like every packet byte.
 */
import { copyTime, type StreamConsumer } from '../flows/stream.js';
import { safeText } from './text.js';
import { u16be } from './bytes.js';
import type { PacketTime } from '../events/types.js';

export interface TlsClientHelloInfo {
  /** time of the segment that started the first record */
  t: PacketTime;
  /** the client's preferred version: first non-GREASE supported_versions entry, else the hello's version field (Zeek's names: TLSv12, TLSv13, ...) */
  version: string;
  /** the ClientHello's own (legacy) version field */
  helloVersion: number;
  /** cipher suites offered (GREASE values included, as sent) */
  ciphers: number;
  /** extension types in the order sent */
  extensions: number[];
  /** host_name of the server_name extension, or null when there is none */
  sni: string | null;
  /** application_layer_protocol_negotiation names, in the client's order */
  alpn: string[];
  /** bytes of the TLS records (headers included) that carried the hello */
  size: number;
}

/** Largest ClientHello handshake message read (a record holds at most 16 KiB; real hellos are 0.2–2 KiB). */
export const MAX_HELLO = 16 * 1024;
/** Largest stream prefix held while the hello is incomplete: the message plus room for record headers. */
const MAX_HELD = MAX_HELLO + 1024;
/** TLSPlaintext.length is at most 2^14; allow the 2^14 + 2048 of TLSCiphertext, as lenient stacks do. */
const MAX_RECORD = 16384 + 2048;
const MAX_ALPN = 32;
const MAX_EXTENSIONS = 128;

const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

/**
 * Does this payload start like a TLS handshake record holding a ClientHello?
 * Record type 22, version 3.x (SSL 3.0 to TLS 1.3 use 0x0300–0x0304 here),
 * first handshake byte 1. Needs the first 6 bytes.
 */
export function looksLikeTlsClientHello(buf: Buffer, off: number, len: number): boolean {
  return len >= 6 && buf[off] === CONTENT_HANDSHAKE && buf[off + 1] === 0x03 && buf[off + 2]! <= 0x04 &&
    buf[off + 5] === HANDSHAKE_CLIENT_HELLO;
}

/**
 * Does this payload ask to switch a text protocol to TLS? One line, any case:
 * "STARTTLS" (SMTP, NNTP, ManageSieve, ...) or "STLS" (POP3), with an
 * optional tag in front ("a1 STARTTLS", IMAP). The ClientHello then follows
 * the server's go-ahead. (Lines that look like an HTTP request, as "a1
 * STARTTLS" does, make the flow HTTP first; the tracker takes a ClientHello
 * there too.)
 */
export function looksLikeStartTls(buf: Buffer, off: number, len: number): boolean {
  if (len < 6 || len > 64) return false;
  let e = off + len;
  if (buf[e - 1] !== 0x0a) return false;
  e--;
  if (buf[e - 1] === 0x0d) e--;
  // the last word of the line
  let w = e;
  while (w > off && buf[w - 1] !== 0x20) w--;
  if (w === off) return wordIs(buf, w, e, 'STARTTLS') || wordIs(buf, w, e, 'STLS');
  // a tag: one word of printable bytes
  for (let i = off; i < w - 1; i++) if (buf[i]! <= 0x20 || buf[i]! > 0x7e) return false;
  return w - 1 > off && wordIs(buf, w, e, 'STARTTLS');
}

function wordIs(buf: Buffer, s: number, e: number, upper: string): boolean {
  if (e - s !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    let c = buf[s + i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== upper.charCodeAt(i)) return false;
  }
  return true;
}

/** Zeek's version names (base/protocols/ssl/consts.zeek). */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0002: return 'SSLv2';
    case 0x0300: return 'SSLv3';
    case 0x0301: return 'TLSv10';
    case 0x0302: return 'TLSv11';
    case 0x0303: return 'TLSv12';
    case 0x0304: return 'TLSv13';
    case 0xfeff: return 'DTLSv10';
    case 0xfefd: return 'DTLSv12';
    case 0xfefc: return 'DTLSv13';
    default:
      if ((v & 0xff00) === 0x7f00) return `TLSv13-draft${v & 0xff}`;
      return `unknown-${v}`;
  }
}

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

const NEED_MORE = 0;
const BAD = -1;
/** Scratch for a hello split over several records (parsing is synchronous; results hold no reference to it). */
const GATHER = Buffer.alloc(MAX_HELLO);

/**
 * Reads the ClientHello from the handshake records at b[off, end). Returns the
 * hello, NEED_MORE when the records holding it are not all there yet, or BAD.
 * `t` is only stored in the result.
 */
export function parseClientHelloRecords(b: Buffer, off: number, end: number, t: PacketTime): TlsClientHelloInfo | typeof NEED_MORE | typeof BAD {
  // Common case: the whole message in the first record, read in place.
  let p = off;
  let gathered: Buffer | null = null;
  let have = 0;
  let need = -1; // handshake bytes wanted (4 + length) once the header is known
  for (;;) {
    if (end - p < 5) return NEED_MORE;
    if (b[p] !== CONTENT_HANDSHAKE || b[p + 1] !== 0x03 || b[p + 2]! > 0x04) return BAD;
    const len = u16be(b, p + 3);
    if (len === 0 || len > MAX_RECORD) return BAD;
    if (end - p - 5 < len) return NEED_MORE;
    const body = p + 5;
    p = body + len;
    if (gathered === null && len >= 4) {
      if (b[body] !== HANDSHAKE_CLIENT_HELLO) return BAD;
      const hlen = (b[body + 1]! << 16) | (b[body + 2]! << 8) | b[body + 3]!;
      if (hlen + 4 > MAX_HELLO) return BAD;
      if (hlen + 4 <= len) return parseClientHello(b, body + 4, body + 4 + hlen, t, p - off);
      need = hlen + 4;
    }
    // The message continues in the next record(s): gather the record bodies.
    gathered ??= GATHER;
    const take = Math.min(len, MAX_HELLO - have);
    b.copy(gathered, have, body, body + take);
    have += take;
    if (need < 0 && have >= 4) {
      if (gathered[0] !== HANDSHAKE_CLIENT_HELLO) return BAD;
      const hlen = (gathered[1]! << 16) | (gathered[2]! << 8) | gathered[3]!;
      if (hlen + 4 > MAX_HELLO) return BAD;
      need = hlen + 4;
    }
    if (need >= 0 && have >= need) return parseClientHello(gathered, 4, need, t, p - off);
    if (have >= MAX_HELLO) return BAD;
  }
}

/** Reads a ClientHello body b[s, e) (after the 4-byte handshake header). */
export function parseClientHello(b: Buffer, s: number, e: number, t: PacketTime, size: number): TlsClientHelloInfo | typeof BAD {
  let p = s;
  // legacy_version, random, session id
  if (e - p < 35) return BAD;
  const helloVersion = u16be(b, p);
  p += 34;
  const sid = b[p]!;
  if (sid > 32 || e - p - 1 < sid) return BAD;
  p += 1 + sid;
  // cipher suites
  if (e - p < 2) return BAD;
  const cs = u16be(b, p);
  if (cs < 2 || (cs & 1) !== 0 || e - p - 2 < cs) return BAD;
  const ciphers = cs / 2;
  p += 2 + cs;
  // compression methods
  if (e - p < 1) return BAD;
  const cm = b[p]!;
  if (cm < 1 || e - p - 1 < cm) return BAD;
  p += 1 + cm;
  const info: TlsClientHelloInfo = {
    t, version: tlsVersionName(helloVersion), helloVersion, ciphers, extensions: [], sni: null, alpn: [], size,
  };
  // extensions (absent in old hellos)
  if (e - p < 2) return info;
  const xl = u16be(b, p);
  p += 2;
  const xe = p + xl < e ? p + xl : e;
  let preferred = -1;
  while (xe - p >= 4 && info.extensions.length < MAX_EXTENSIONS) {
    const type = u16be(b, p);
    const len = u16be(b, p + 2);
    const v = p + 4;
    if (xe - v < len) break; // runs past the block: malformed, stop here
    info.extensions.push(type);
    const ve = v + len;
    if (type === EXT_SERVER_NAME && info.sni === null) info.sni = serverName(b, v, ve);
    else if (type === EXT_ALPN && info.alpn.length === 0) info.alpn = alpnList(b, v, ve);
    else if (type === EXT_SUPPORTED_VERSIONS && preferred < 0) preferred = firstVersion(b, v, ve);
    p = ve;
  }
  if (preferred >= 0) info.version = tlsVersionName(preferred);
  return info;
}

/** server_name (RFC 6066 §3): the first host_name entry, or null. */
function serverName(b: Buffer, s: number, e: number): string | null {
  if (e - s < 2) return null;
  const listEnd = Math.min(e, s + 2 + u16be(b, s));
  let p = s + 2;
  while (listEnd - p >= 3) {
    const type = b[p]!;
    const len = u16be(b, p + 1);
    p += 3;
    if (listEnd - p < len) return null;
    if (type === 0) return safeText(b, p, p + len);
    p += len;
  }
  return null;
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1): the protocol names, in order. */
function alpnList(b: Buffer, s: number, e: number): string[] {
  const out: string[] = [];
  if (e - s < 2) return out;
  const listEnd = Math.min(e, s + 2 + u16be(b, s));
  let p = s + 2;
  while (listEnd - p >= 1 && out.length < MAX_ALPN) {
    const len = b[p]!;
    p += 1;
    if (len === 0 || listEnd - p < len) break;
    out.push(safeText(b, p, p + len));
    p += len;
  }
  return out;
}

/** supported_versions in a ClientHello (RFC 8446 §4.2.1): the first non-GREASE entry, the client's preference. */
function firstVersion(b: Buffer, s: number, e: number): number {
  if (e - s < 1) return -1;
  const listEnd = Math.min(e, s + 1 + b[s]!);
  for (let p = s + 1; listEnd - p >= 2; p += 2) {
    const v = u16be(b, p);
    if (!isGrease(v)) return v;
  }
  return -1;
}

/**
 * The client side of a TLS connection, as a stream consumer: gathers the
 * records of the ClientHello (from the first byte of the stream) and calls
 * `done` exactly once: with the hello, or with null when the stream does not
 * start with a readable ClientHello. Segments after that are ignored.
 */
export class TlsClientHalf implements StreamConsumer {
  private held: Buffer | null = null;
  private heldLen = 0;
  private t: PacketTime | null = null;
  finished = false;

  constructor(private readonly done: (hello: TlsClientHelloInfo | null) => void) {}

  data(buf: Buffer, off: number, len: number, t: PacketTime): void {
    if (this.finished || len <= 0) return;
    if (this.heldLen === 0) {
      // Usually the whole hello is in this segment: read it in place.
      const r = parseClientHelloRecords(buf, off, off + len, t);
      if (r === NEED_MORE) {
        if (len > MAX_HELD) { this.finish(null); return; }
        this.t = copyTime(t);
        this.held ??= Buffer.allocUnsafe(Math.max(2048, Math.min(MAX_HELD, len * 2)));
        buf.copy(this.held, 0, off, off + len);
        this.heldLen = len;
        return;
      }
      if (r !== BAD) r.t = copyTime(t); // t is the caller's transient packet time
      this.finish(r === BAD ? null : r);
      return;
    }
    // Only what fits the bound is kept (a large segment may carry the hello's end and more).
    const room = MAX_HELD - this.heldLen;
    const take = len < room ? len : room;
    if (this.held!.length < this.heldLen + take) {
      const bigger = Buffer.allocUnsafe(Math.min(MAX_HELD, Math.max(this.held!.length * 2, this.heldLen + take)));
      this.held!.copy(bigger, 0, 0, this.heldLen);
      this.held = bigger;
    }
    buf.copy(this.held!, this.heldLen, off, off + take);
    this.heldLen += take;
    const r = parseClientHelloRecords(this.held!, 0, this.heldLen, this.t!);
    if (r === NEED_MORE) {
      if (this.heldLen >= MAX_HELD) this.finish(null); // larger than we read
      return;
    }
    this.finish(r === BAD ? null : r);
  }

  /** Lost bytes before the hello was complete: it cannot be read. */
  gap(): void {
    if (!this.finished) this.finish(null);
  }

  private finish(hello: TlsClientHelloInfo | null): void {
    this.finished = true;
    this.held = null;
    this.heldLen = 0;
    this.done(hello);
  }
}
