import { describe, it, expect } from 'vitest';
import { HttpConnection, HttpHalf, looksLikeRequest, type HttpRequestInfo, type HttpResponseInfo } from '../../../src/decode/http.js';
import type { PacketTime } from '../../../src/events/types.js';

const t = (s: number): PacketTime => ({ ts: s, tsSec: s, tsNsec: 0, tsDigits: 6 });

function conn(): { reqs: HttpRequestInfo[]; resps: HttpResponseInfo[]; client: HttpHalf; server: HttpHalf; conn: HttpConnection } {
  const reqs: HttpRequestInfo[] = [];
  const resps: HttpResponseInfo[] = [];
  const c = new HttpConnection({ request: (r) => reqs.push(r), response: (r) => resps.push(r) });
  return { reqs, resps, client: new HttpHalf(true, c), server: new HttpHalf(false, c), conn: c };
}

function feed(h: HttpHalf, s: string, ts = 1): void {
  const b = Buffer.from(s, 'latin1');
  h.data(b, 0, b.length, t(ts));
}

describe('HTTP requests', () => {
  it('parses method, URI, Host and User-Agent', () => {
    const x = conn();
    feed(x.client, 'GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');
    expect(x.reqs).toHaveLength(1);
    expect(x.reqs[0]).toMatchObject({ method: 'GET', uri: '/index.html?a=1', version: 'HTTP/1.1', host: 'example.com', userAgent: 'curl/7.88.1' });
  });

  it('joins a request split across segments and stamps it with the first segment time', () => {
    const x = conn();
    feed(x.client, 'GET /split HT', 5);
    feed(x.client, 'TP/1.1\r\nHost: a\r\n', 6);
    expect(x.reqs).toHaveLength(0);
    feed(x.client, '\r\n', 7);
    expect(x.reqs[0]).toMatchObject({ uri: '/split', host: 'a' });
    expect(x.reqs[0]!.t.ts).toBe(5);
  });

  it('sees every request on a keep-alive connection, including pipelined ones in one segment', () => {
    const x = conn();
    feed(x.client, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello');
    feed(x.client, 'GET /d HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(x.reqs.map((r) => r.uri)).toEqual(['/a', '/b', '/c', '/d']);
  });

  it('skips a chunked request body', () => {
    const x = conn();
    feed(x.client, 'POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n');
    expect(x.reqs.map((r) => r.uri)).toEqual(['/up', '/next']);
  });

  it('escapes control characters and backslashes in header values', () => {
    const x = conn();
    feed(x.client, 'GET /x HTTP/1.1\r\nUser-Agent: evil\x1b[31m\\ua\xff\r\nHost: h\r\n\r\n');
    expect(x.reqs[0]!.userAgent).toBe('evil\\x1b[31m\\x5cua\\xff');
  });

  it('does not take non-HTTP bytes for a request', () => {
    expect(looksLikeRequest(Buffer.from('\x16\x03\x01\x02\x00'), 0, 5)).toBe(false);
    expect(looksLikeRequest(Buffer.from('SSH-2.0-x'), 0, 9)).toBe(false);
    const x = conn();
    feed(x.client, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 GET / HTTP/1.1\r\n\r\n');
    expect(x.reqs).toHaveLength(0);
    expect(x.client.dead).toBe(true);
  });
});

describe('HTTP responses', () => {
  it('parses status and Content-Length and skips the body to the next response', () => {
    const x = conn();
    feed(x.client, 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
    feed(x.server, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    expect(x.resps.map((r) => [r.status, r.length, r.reason])).toEqual([[200, 10, 'OK'], [404, 0, 'Not Found']]);
  });

  it('knows a reply to HEAD and a 304 have no body', () => {
    const x = conn();
    feed(x.client, 'HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n');
    feed(x.server, 'HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n');
    expect(x.resps.map((r) => r.status)).toEqual([200, 304]);
  });

  it('counts a 100 Continue as its own response without consuming the request', () => {
    const x = conn();
    feed(x.client, 'POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    feed(x.server, 'HTTP/1.1 100 Continue\r\n\r\n');
    feed(x.client, 'hi');
    feed(x.server, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(x.resps.map((r) => r.status)).toEqual([100, 200]);
  });

  it('survives a gap inside a body of known length', () => {
    const x = conn();
    feed(x.server, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
    x.server.gap(50);
    feed(x.server, '0123456789'.repeat(4) + 'HTTP/1.1 204 No Content\r\n\r\n');
    expect(x.resps.map((r) => r.status)).toEqual([200, 204]);
  });

  it('after a gap in the headers, reports the whole start line, takes nothing from the lost block and resumes at the next status line', () => {
    const x = conn();
    feed(x.server, 'HTTP/1.1 200 OK\r\nCont');
    x.server.gap(10);
    // the rest of the lost block's headers and its body must not be taken for a message
    feed(x.server, 'ent-Length: 5\r\n\r\nHTTP/\r\n');
    feed(x.server, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    expect(x.resps.map((r) => [r.status, r.length])).toEqual([[200, null], [404, 0]]);
    expect(x.conn.issues).toMatchObject({ http_content_gap: 1, http_resync: 1 });
  });
});

describe('HTTP after lost bytes and oversize header blocks', () => {
  it('reports every request of a keep-alive connection whose header blocks are all cut by the snap length', () => {
    const x = conn();
    for (const u of ['/a', '/b', '/c']) {
      feed(x.client, `GET ${u} HTTP/1.1\r\nHost: h\r\nUser-Ag`);
      x.client.gap(40, true);
    }
    expect(x.reqs.map((r) => [r.uri, r.host, r.userAgent])).toEqual([['/a', 'h', null], ['/b', 'h', null], ['/c', 'h', null]]);
    expect(x.conn.issues.http_content_gap).toBe(3);
    expect(x.conn.issues.http_resync).toBe(2);
  });

  it('resynchronises on a request line in the middle of a segment after a lost segment', () => {
    const x = conn();
    feed(x.client, 'POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123');
    x.client.gap(200); // past the body's end: framing is lost
    feed(x.client, 'tail of something GET /not-a-line-start HTTP/1.1\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(x.reqs.map((r) => r.uri)).toEqual(['/up', '/next']);
  });

  it('a resync needs a known method: body text after a gap is not taken for a request', () => {
    const x = conn();
    feed(x.client, 'GET / HTTP/1.1\r\n\r\n');
    x.client.gap(10);
    feed(x.client, 'Hello world\r\nFoo /bar HTTP/1.1\r\n\r\n');
    expect(x.reqs.map((r) => r.uri)).toEqual(['/']);
  });

  it('skips a header block over 64 KiB to its end (counted) and decodes the next request on the connection', () => {
    const x = conn();
    const big = 'GET /big HTTP/1.1\r\nHost: h\r\n' + 'X-Pad: ' + 'a'.repeat(70 * 1024) + '\r\nContent-Length: 3\r\n\r\n';
    // delivered in segments of odd sizes, so the block's end straddles them
    const all = big + 'GET /scan HTTP/1.1\r\nUser-Agent: sqlmap/1.7\r\n\r\n';
    for (let i = 0; i < all.length; i += 1447) feed(x.client, all.slice(i, i + 1447));
    expect(x.reqs.map((r) => [r.uri, r.userAgent])).toEqual([['/big', null], ['/scan', 'sqlmap/1.7']]);
    expect(x.conn.issues.http_header_oversize).toBe(1);
  });

  it('a body of known length in an oversize block is still skipped by its Content-Length', () => {
    const x = conn();
    const big = 'POST /big HTTP/1.1\r\nContent-Length: 20\r\nX-Pad: ' + 'b'.repeat(65536) + '\r\n\r\n';
    feed(x.client, big + 'GET /in-body HTTP/1.1\r\n' + 'GET /after HTTP/1.1\r\n\r\n');
    expect(x.reqs.map((r) => r.uri)).toEqual(['/big', '/after']);
  });
});
