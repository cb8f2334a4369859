/**
 * HTTP/1.x message parser over a reassembled TCP stream, one instance per
 * direction. It finds each message's start line and headers (which may span
 * many segments), then skips the body by Content-Length or chunked framing
 * without copying it, so several requests on one keep-alive connection and
 * pipelined requests are all seen. Only the header block of a message is ever
 * copied; everything else is counted.
 *
 * Lost bytes (a missing segment, a header block cut by the snap length) do
 * not end parsing: once a connection has shown it is HTTP, a half that loses
 * its framing resynchronises on the next line that starts a request (a known
 * method and a space) or a response ("HTTP/d.d ddd"), as Zeek's and
 * Suricata's parsers do after a content gap. A header block over
 * MAX_HEADER_BYTES is reported from what fits, skipped to its end, and
 * parsing goes on. Every such event is counted (HttpIssues).
 */
import { copyTime, type StreamConsumer } from '../flows/stream.js';
import { safeString } from './text.js';
import { HttpPairing, newTxStats, type TxStats } from '../flows/transactions.js';
import type { PacketTime } from '../events/types.js';

export interface HttpRequestInfo {
  t: PacketTime;
  method: string;
  uri: string;
  version: string;
  host: string | null;
  userAgent: string | null;
  /** header bytes + declared body length */
  size: number;
  /** position of the request on its connection, from 1 (Zeek's trans_depth) */
  depth: number;
}

export interface HttpResponseInfo {
  t: PacketTime;
  status: number;
  version: string;
  reason: string;
  length: number | null;
  size: number;
  /** the request answered (flows/transactions.ts): null when none was outstanding, no method/uri when it was over the pairing cap */
  request: { depth: number; method?: string; uri?: string } | null;
}

export interface HttpSink {
  request(r: HttpRequestInfo): void;
  response(r: HttpResponseInfo): void;
}

/** What the parser had to give up on or recover from, per process (reported with the decode errors). */
export interface HttpIssues {
  /** a gap (lost or cut bytes) broke a half's framing: it waits for the next start line */
  http_content_gap: number;
  /** a half found a start line again after losing its framing */
  http_resync: number;
  /** a header block over MAX_HEADER_BYTES: reported from its first bytes, skipped to its end */
  http_header_oversize: number;
}

export function newHttpIssues(): HttpIssues {
  return { http_content_gap: 0, http_resync: 0, http_header_oversize: 0 };
}

/** Header blocks larger than this are not HTTP we will parse (Zeek and Suricata cap similarly). */
export const MAX_HEADER_BYTES = 64 * 1024;

const enum S {
  Headers, Body, Chunk, ChunkData, ChunkEnd, Trailers, UntilClose, Dead,
  /** framing lost: looking for the next line that starts a message */
  Resync,
  /** inside an oversize header block: looking for its end, then `afterSkip` */
  SkipHeaders,
}

const REQUEST_LINE = /^([A-Za-z_][A-Za-z0-9_\-]{0,23}) (\S+) (HTTP\/\d\.\d)$/;
/** A request line with the URI or version missing or malformed ("GET /", "GET / HTTP/1.", "OPTIONS"): taken only for a known method. */
const LOOSE_REQUEST_LINE = /^([A-Za-z_][A-Za-z0-9_\-]{0,23})(?: (\S*)(?: (\S*))?)?$/;
const STATUS_LINE = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/;

/**
 * Methods for which a malformed request line is still reported (the list
 * Wireshark's HTTP dissector recognises: RFC 9110, WebDAV, UPnP, RPC over HTTP, Cisco CCM).
 */
const KNOWN_METHODS = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'MKCALENDAR',
  'CHECKOUT', 'CHECKIN', 'MERGE', 'LABEL', 'UPDATE', 'MKACTIVITY', 'MKWORKSPACE', 'VERSION-CONTROL', 'BASELINE-CONTROL',
  'BCOPY', 'BMOVE', 'BDELETE', 'BPROPFIND', 'BPROPPATCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'POLL', 'M-SEARCH',
  'CCM_POST', 'RPC_IN_DATA', 'RPC_OUT_DATA',
]);

/** Parses a request start line: strict for any method token, lenient (URI and version optional, any version text) for known methods. */
function parseRequestLine(line: string): { method: string; uri: string; version: string } | null {
  const m = REQUEST_LINE.exec(line);
  if (m) return { method: m[1]!, uri: m[2]!, version: m[3]! };
  const l = LOOSE_REQUEST_LINE.exec(line);
  if (l && KNOWN_METHODS.has(l[1]!)) return { method: l[1]!, uri: l[2] ?? '', version: l[3] ?? '' };
  return null;
}

/** Cheap first-bytes test: does this payload start like an HTTP request? */
export function looksLikeRequest(buf: Buffer, off: number, len: number): boolean {
  let i = 0;
  const n = len < 25 ? len : 25;
  for (; i < n; i++) {
    const c = buf[off + i]!;
    if (c === 0x20) break;
    // A bare known method ending the line ("OPTIONS\r\n"): malformed, but still a request.
    if (c === 0x0d || c === 0x0a) return KNOWN_METHODS.has(buf.toString('latin1', off, off + i));
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d || (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return false;
  }
  return i > 0 && i < n && (len > i + 1) && buf[off + i + 1] !== 0x20;
}

export function looksLikeResponse(buf: Buffer, off: number, len: number): boolean {
  return len >= 5 && buf[off] === 0x48 && buf[off + 1] === 0x54 && buf[off + 2] === 0x54 && buf[off + 3] === 0x50 && buf[off + 4] === 0x2f;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/**
 * After lost bytes, is buf[i, end) the start of a message line? Stricter than
 * the first-payload test (looksLikeRequest), since it is tried at every line
 * start of whatever follows a gap: a request needs a known method, a space and
 * a non-space; a response needs "HTTP/d.d ddd".
 */
export function startsMessage(isClient: boolean, buf: Buffer, i: number, end: number): boolean {
  if (!isClient) {
    return end - i >= 12 && looksLikeResponse(buf, i, 5) && isDigit(buf[i + 5]) && buf[i + 6] === 0x2e && isDigit(buf[i + 7])
      && buf[i + 8] === 0x20 && isDigit(buf[i + 9]) && isDigit(buf[i + 10]) && isDigit(buf[i + 11]);
  }
  let j = i;
  const lim = end - i > 25 ? i + 25 : end;
  while (j < lim && ((buf[j]! >= 0x41 && buf[j]! <= 0x5a) || buf[j] === 0x5f || buf[j] === 0x2d)) j++;
  if (j === i || j + 1 >= end || buf[j] !== 0x20 || buf[j + 1] === 0x20) return false;
  return KNOWN_METHODS.has(buf.toString('latin1', i, j));
}

/** The characters String.prototype.trim removes, among latin1 bytes: TAB LF VT FF CR SP NBSP. */
function isTrimSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0;
}

const enum F { Other, Host, UserAgent, ContentLength, TransferEncoding }
const FIELD_NAMES: [F, Buffer][] = [
  [F.Host, Buffer.from('host')], [F.UserAgent, Buffer.from('user-agent')],
  [F.ContentLength, Buffer.from('content-length')], [F.TransferEncoding, Buffer.from('transfer-encoding')],
];

/** Which of the header fields we read is the (trimmed) name h[s, e), compared case-insensitively (ASCII letters only, as toLowerCase on latin1 names). */
function headerField(h: Buffer, s: number, e: number): F {
  const n = e - s;
  if (n !== 4 && n !== 10 && n !== 14 && n !== 17) return F.Other;
  for (const [f, name] of FIELD_NAMES) {
    if (name.length !== n) continue;
    let i = 0;
    for (; i < n; i++) {
      let c = h[s + i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== name[i]) break;
    }
    if (i === n) return f;
  }
  return F.Other;
}

/** Shared by both directions of a connection: which requests await responses (pairing, and HEAD's bodiless answer). */
export class HttpConnection {
  /** requests waiting for their responses, in order (pipelining) */
  readonly pairing: HttpPairing;
  /** where gaps, resynchronisations and oversize blocks are counted (shared by all connections of a tracker) */
  issues: HttpIssues = newHttpIssues();
  /** requests reported so far */
  requests = 0;
  /** a CONNECT was answered 2xx: the connection is a tunnel from here on (TLS, usually) */
  tunnel = false;
  /** @param tx where unpaired responses and pipeline overflows are counted (shared by all connections of a tracker) */
  constructor(readonly sink: HttpSink, tx: TxStats = newTxStats()) { this.pairing = new HttpPairing(tx); }
}

export class HttpHalf implements StreamConsumer {
  private state: S = S.Headers;
  private hdr: Buffer = Buffer.alloc(0);
  private hdrLen = 0;
  private hdrT: PacketTime | null = null;
  private remaining = 0;
  private line = '';
  messages = 0;
  /** Resync: the next byte starts a line */
  private atLineStart = false;
  /** SkipHeaders: 1 after a LF, 2 after LF CR (a LF then ends the block) */
  private nl = 0;
  private afterSkip: S = S.Headers;

  constructor(private readonly isClient: boolean, private readonly conn: HttpConnection) {}

  get dead(): boolean { return this.state === S.Dead; }

  gap(len: number, cut = false): void {
    if (this.state === S.Dead || this.state === S.UntilClose) return;
    if (this.state === S.Headers && this.hdrLen > 0) {
      // The header block was cut (snap length) or lost its end: report what its start line
      // says (as tshark does) when that line is whole or the cut came right after it.
      if (cut || this.hdr.subarray(0, this.hdrLen).includes(0x0a)) this.parseBlock(this.hdrLen, true);
      this.hdrLen = 0;
      if ((this.state as S) === S.Dead) return;
    } else if (this.state === S.Body || this.state === S.ChunkData) {
      this.remaining -= len;
      if (this.remaining >= 0) {
        if (this.remaining === 0) this.state = this.state === S.Body ? S.Headers : S.ChunkEnd;
        return;
      }
    } else if (this.state === S.Resync) {
      this.atLineStart = true;
      return;
    }
    // Framing lost: wait for the next start line rather than misparse what follows.
    this.conn.issues.http_content_gap++;
    this.resync(true);
  }

  /** Lost framing: from here on, only a line that starts a message resumes parsing. */
  private resync(atLineStart: boolean): void {
    this.state = S.Resync;
    this.atLineStart = atLineStart;
    this.hdrLen = 0;
    this.line = '';
  }

  data(buf: Buffer, off: number, len: number, t: PacketTime): void {
    while (len > 0) {
      switch (this.state) {
        case S.Dead:
        case S.UntilClose:
          return;
        case S.Resync: {
          const end = off + len;
          let i = off;
          for (;;) {
            if (this.atLineStart && i < end && startsMessage(this.isClient, buf, i, end)) break;
            while (i < end && buf[i] !== 0x0a) i++;
            if (i >= end) break;
            i++;
            this.atLineStart = true;
          }
          if (i >= end) { this.atLineStart = buf[end - 1] === 0x0a; return; }
          this.conn.issues.http_resync++;
          this.state = S.Headers;
          len -= i - off; off = i;
          break;
        }
        case S.SkipHeaders: {
          // Find the blank line ending the block, across segments ("\n\n" or "\n\r\n").
          const end = off + len;
          let i = off, nl = this.nl;
          for (; i < end; i++) {
            const c = buf[i]!;
            if (c === 0x0a) { if (nl > 0) { i++; nl = 3; break; } nl = 1; }
            else nl = c === 0x0d && nl === 1 ? 2 : 0;
          }
          if (nl === 3) { this.nl = 0; this.state = this.afterSkip; } else this.nl = nl;
          len -= i - off; off = i;
          break;
        }
        case S.Headers: {
          if (this.hdrLen === 0) {
            // Stray CR/LF between messages.
            while (len > 0 && (buf[off] === 0x0d || buf[off] === 0x0a)) { off++; len--; }
            if (len === 0) return;
            this.hdrT = copyTime(t);
          }
          const used = this.feedHeader(buf, off, len);
          if (used < 0) return; // need more, or went dead
          off += used; len -= used;
          break;
        }
        case S.Body:
        case S.ChunkData: {
          const n = len < this.remaining ? len : this.remaining;
          this.remaining -= n; off += n; len -= n;
          if (this.remaining === 0) this.state = this.state === S.Body ? S.Headers : S.ChunkEnd;
          break;
        }
        case S.Chunk:
        case S.ChunkEnd:
        case S.Trailers: {
          // Line-oriented parts of chunked framing: lines are short, gather them as text.
          let i = 0;
          while (i < len && buf[off + i] !== 0x0a) i++;
          if (this.line.length + i > 1024) { this.lostFraming(); break; }
          this.line += buf.toString('latin1', off, off + i);
          if (i === len) { off += len; len = 0; break; }
          off += i + 1; len -= i + 1;
          const line = this.line.replace(/\r$/, '');
          this.line = '';
          if (this.state === S.ChunkEnd) { this.state = S.Chunk; if (line === '') break; }
          if (this.state === S.Trailers) { if (line === '') this.state = S.Headers; break; }
          const size = parseInt(line.split(';')[0]!.trim(), 16);
          if (!Number.isFinite(size) || size < 0) { this.lostFraming(); break; }
          if (size === 0) this.state = S.Trailers;
          else { this.remaining = size; this.state = S.ChunkData; }
          break;
        }
      }
    }
  }

  /** Appends header bytes; when the block is complete, parses it. Returns bytes consumed from input, or -1. */
  private feedHeader(buf: Buffer, off: number, len: number): number {
    const room = MAX_HEADER_BYTES - this.hdrLen;
    const take = len < room ? len : room;
    if (this.hdr.length < this.hdrLen + take) {
      const bigger = Buffer.allocUnsafe(Math.min(MAX_HEADER_BYTES, Math.max(this.hdr.length * 2, this.hdrLen + take, 2048)));
      this.hdr.copy(bigger, 0, 0, this.hdrLen);
      this.hdr = bigger;
    }
    buf.copy(this.hdr, this.hdrLen, off, off + take);
    const from = this.hdrLen > 3 ? this.hdrLen - 3 : 0;
    const prev = this.hdrLen;
    this.hdrLen += take;
    // Early exit when the first bytes are not an HTTP start line at all.
    if (prev === 0) {
      const ok = this.isClient ? looksLikeRequest(this.hdr, 0, this.hdrLen) : looksLikeResponse(this.hdr, 0, this.hdrLen);
      if (!ok && this.hdrLen >= 5) {
        // Not HTTP at all (nothing parsed yet), or bytes we misframed: look for the next start line.
        if (this.messages === 0) { this.state = S.Dead; return -1; }
        // Nothing consumed: the resync scan reads these bytes again (a start line may follow).
        this.lostFraming();
        return 0;
      }
    }
    const h = this.hdr;
    for (let i = from; i < this.hdrLen; i++) {
      if (h[i] !== 0x0a) continue;
      // end of headers: "\n\n" or "\n\r\n"
      const endAt = h[i + 1] === 0x0a ? i + 2 : h[i + 1] === 0x0d && h[i + 2] === 0x0a ? i + 3 : -1;
      if (endAt < 0 || endAt > this.hdrLen) continue;
      const consumed = endAt - prev;
      this.parseBlock(endAt);
      this.hdrLen = 0;
      return consumed;
    }
    if (this.hdrLen >= MAX_HEADER_BYTES) {
      // Too large to hold: report what the first bytes say, skip the rest of the block, go on.
      this.conn.issues.http_header_oversize++;
      this.parseBlock(this.hdrLen, true);
      this.hdrLen = 0;
      if (this.state === S.Dead || this.state === S.Resync) return take;
      this.afterSkip = this.state;
      this.state = S.SkipHeaders;
      const t1 = h[MAX_HEADER_BYTES - 1], t2 = h[MAX_HEADER_BYTES - 2];
      this.nl = t1 === 0x0a ? 1 : t1 === 0x0d && t2 === 0x0a ? 2 : 0;
      return take;
    }
    return -1;
  }

  /** Bytes that should have been framing were not: counted, then resynchronise. */
  private lostFraming(): void {
    this.conn.issues.http_content_gap++;
    this.resync(false);
  }

  /**
   * @param partial the block was cut short: its last line may be incomplete and is used only if it is the start line
   *
   * Works on the bytes: only the start line and the values of the four header
   * fields we report or frame by become strings (the block as one string, split
   * into lines, was most of the pipeline's allocation). Same results as
   * splitting the latin1 text on "\n" and trimming names and values with
   * String.prototype.trim.
   */
  private parseBlock(blockLen: number, partial = false): void {
    const h = this.hdr;
    let e0 = 0;
    while (e0 < blockLen && h[e0] !== 0x0a) e0++;
    const start = h.toString('latin1', 0, e0 > 0 && h[e0 - 1] === 0x0d ? e0 - 1 : e0);
    let host: string | null = null, ua: string | null = null, clen: number | null = null, chunked = false;
    for (let ls = e0 + 1; ls <= blockLen;) {
      let le = ls;
      while (le < blockLen && h[le] !== 0x0a) le++;
      // A cut block's last (unterminated) line may be incomplete: not used.
      if (le === blockLen && partial) break;
      let c = ls;
      while (c < le && h[c] !== 0x3a) c++;
      if (c > ls && c < le) {
        let ns = ls, ne = c;
        while (ns < ne && isTrimSpace(h[ns]!)) ns++;
        while (ne > ns && isTrimSpace(h[ne - 1]!)) ne--;
        const field = headerField(h, ns, ne);
        if (field !== F.Other) {
          let vs = c + 1, ve = le;
          while (vs < ve && isTrimSpace(h[vs]!)) vs++;
          while (ve > vs && isTrimSpace(h[ve - 1]!)) ve--;
          const value = h.toString('latin1', vs, ve);
          if (field === F.Host) host ??= value;
          else if (field === F.UserAgent) ua ??= value;
          else if (field === F.ContentLength) { const n = Number(value); if (Number.isInteger(n) && n >= 0) clen = n; }
          else chunked = /chunked/i.test(value);
        }
      }
      ls = le + 1;
    }
    this.messages++;
    if (this.isClient) {
      const m = parseRequestLine(start);
      if (!m) {
        // Not a request we can name; keep framing as if it had no body. Its answer still comes in its turn.
        this.conn.pairing.unnamed();
        this.state = S.Headers;
        return;
      }
      this.conn.requests++;
      const method = safeString(m.method), uri = safeString(m.uri);
      const depth = this.conn.pairing.request(method, uri);
      this.conn.sink.request({
        t: this.hdrT!, method, uri, version: safeString(m.version),
        host: host === null ? null : safeString(host), userAgent: ua === null ? null : safeString(ua),
        size: blockLen + (clen ?? 0), depth,
      });
      this.startBody(chunked, clen, false);
    } else {
      const m = STATUS_LINE.exec(start);
      if (!m) {
        if (this.messages === 1) this.state = S.Dead; else this.lostFraming();
        return;
      }
      const status = Number(m[2]);
      // 101 Switching Protocols is the request's final answer (what follows is another protocol)
      const informational = status >= 100 && status < 200 && status !== 101;
      const request = this.conn.pairing.response(informational);
      // method was made safe for the log: a method with bytes that needed escaping is never HEAD or CONNECT anyway
      const method = informational || request === null || !('method' in request) ? undefined : request.method;
      this.conn.sink.response({
        t: this.hdrT!, status, version: m[1]!, reason: safeString(m[3] ?? ''), length: clen,
        size: blockLen + (clen ?? 0), request,
      });
      if (method === 'CONNECT' && status >= 200 && status < 300) this.conn.tunnel = true;
      if (status < 200 || status === 204 || status === 304 || method === 'HEAD') { this.state = S.Headers; return; }
      this.startBody(chunked, clen, true);
    }
  }

  private startBody(chunked: boolean, clen: number | null, isResponse: boolean): void {
    if (chunked) { this.state = S.Chunk; return; }
    if (clen !== null && clen > 0) { this.remaining = clen; this.state = S.Body; return; }
    // A response without a length runs until the connection closes (RFC 9112 §6.3).
    this.state = isResponse && clen === null ? S.UntilClose : S.Headers;
  }
}
