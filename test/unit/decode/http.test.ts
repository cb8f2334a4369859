import { describe, it, expect } from 'vitest';
import { HttpConnection, HttpHalf, looksLikeRequest, type HttpRequestInfo, type HttpResponseInfo } from '../../../src/decode/http.js';
import type { PacketTime } from '../../../src/events/types.js';

const t = (s: number): PacketTime => ({ ts: s, tsSec: s, tsNsec: 0, tsDigits: 6 });

function conn(): { reqs: HttpRequestInfo[]; resps: HttpResponseInfo[]; client: HttpHalf; server: HttpHalf } {
  const reqs: HttpRequestInfo[] = [];
  const resps: HttpResponseInfo[] = [];
  const c = new HttpConnection({ request: (r) => reqs.push(r), response: (r) => resps.push(r) });
  return { reqs, resps, client: new HttpHalf(true, c), server: new HttpHalf(false, c) };
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

  it('gives up (no misparse) after a gap in the headers', () => {
    const x = conn();
    feed(x.server, 'HTTP/1.1 200 OK\r\nCont');
    x.server.gap(10);
    feed(x.server, 'HTTP/1.1 200 OK\r\n\r\n');
    expect(x.resps).toHaveLength(0);
  });
});
