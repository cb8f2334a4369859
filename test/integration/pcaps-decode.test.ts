/**
 * Decoding of the project's own captures (pcaps/, made by pcaps/make-pcaps.sh
 * from real dig, dnsmasq, curl, python http.server, ssh and sshd in network
 * namespaces). What each capture holds is in pcaps/README.md.
 */
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { runPipeline } from '../helpers/collect.js';
import type { ConnEvent, DnsEvent, HttpRequestEvent, HttpResponseEvent, NetEvent, SshAuthEvent, SshBannerEvent } from '../../src/events/types.js';

const P = (f: string) => resolve(__dirname, '../../pcaps', f);
const of = <T extends NetEvent>(ev: NetEvent[], type: T['type']) => ev.filter((e): e is T => e.type === type);

describe('pcaps/dns-basic.pcap (dig against dnsmasq)', () => {
  it('decodes every query and answer, over UDP and TCP, with names, types, rcodes and data', async () => {
    const { events } = await runPipeline(P('dns-basic.pcap'));
    const dns = of<DnsEvent>(events, 'dns');
    const rows = dns.filter((d) => d.is_response).map((d) => [d.proto, d.qname, d.qtype, d.rcode, d.answers.map((a) => `${a.type}:${a.data}`).join(',')]);
    expect(rows).toEqual([
      ['udp', 'www.lab.test', 'A', 'NOERROR', 'A:10.77.0.2'],
      ['udp', 'www.lab.test', 'AAAA', 'NOERROR', 'AAAA:fd77::2'],
      ['udp', 'lab.test', 'MX', 'NOERROR', 'MX:mail.lab.test'],
      ['udp', 'lab.test', 'TXT', 'NOERROR', 'TXT:v=spf1 mx -all'],
      ['udp', 'web.lab.test', 'A', 'NOERROR', 'CNAME:www.lab.test,A:10.77.0.2'],
      ['udp', 'nosuchhost.lab.test', 'A', 'NXDOMAIN', ''],
      ['tcp', 'mail.lab.test', 'A', 'NOERROR', 'A:10.77.0.2'],
    ]);
    // every response answers a query with the same id, from the server to the client
    for (const r of dns.filter((d) => d.is_response)) {
      const q = dns.find((d) => !d.is_response && d.id === r.id);
      expect(q).toBeDefined();
      expect([r.src, r.dst, r.sport]).toEqual([q!.dst, q!.src, 53]);
    }
  });
});

describe('pcaps/http-basic.pcap (curl against python http.server)', () => {
  it('sees every request, including three on one keep-alive connection, HEAD, a custom UA and a request split over two segments', async () => {
    const { events } = await runPipeline(P('http-basic.pcap'));
    const reqs = of<HttpRequestEvent>(events, 'http_request');
    expect(reqs.map((r) => `${r.method} ${r.uri}`)).toEqual([
      'GET /', 'GET /index.html', 'GET /style.css', 'GET /about.html', 'GET /no/such/page.html', 'GET /robots.txt',
      'HEAD /api/status.json', 'GET /news.html',
    ]);
    const keepAlive = reqs.filter((r) => r.sport === reqs[1]!.sport);
    expect(keepAlive).toHaveLength(3);
    expect(reqs.find((r) => r.uri === '/robots.txt')!.user_agent).toBe('TapwatchLabClient/2.1 (custom; +http://lab.test/ua)');
    expect(reqs.find((r) => r.uri === '/news.html')!.user_agent).toBe('tapwatch-split-client/1.0');
    const resps = of<HttpResponseEvent>(events, 'http_response');
    expect(resps.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 200, 200, 200]);
    // the reply to HEAD has a Content-Length but no body: the parser must not swallow what follows
    expect(resps[6]!.length).toBeGreaterThan(0);
  });
});

describe('pcaps/http-snaplen-keepalive.pcap (curl keep-alive, tcpdump -s 128: every header block cut)', () => {
  it('decodes every request and response on the keep-alive connections, counts the gaps and the missed bytes', async () => {
    const { events, pipeline } = await runPipeline(P('http-snaplen-keepalive.pcap'));
    const stats = pipeline.snapshot();
    const reqs = of<HttpRequestEvent>(events, 'http_request');
    expect(reqs.map((r) => `${r.method} ${r.uri} ${r.host}`)).toEqual([
      'GET / 10.77.0.2', 'GET /index.html 10.77.0.2', 'GET /style.css 10.77.0.2', 'GET /about.html 10.77.0.2',
      'GET /news.html 10.77.0.2', 'GET /no/such/page.html 10.77.0.2', 'GET /robots.txt 10.77.0.2', 'GET /admin/ 10.77.0.2',
    ]);
    // two connections: six requests on the first, two on the second
    expect(new Set(reqs.slice(0, 6).map((r) => r.sport)).size).toBe(1);
    expect(new Set(reqs.slice(6).map((r) => r.sport)).size).toBe(1);
    expect(reqs[6]!.sport).not.toBe(reqs[0]!.sport);
    const resps = of<HttpResponseEvent>(events, 'http_response');
    expect(resps.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 404, 200, 404]);
    expect(stats.decodeErrors['http_content_gap']).toBeGreaterThanOrEqual(14);
    expect(stats.decodeErrors['http_resync']).toBe(12);
    const conns = of<ConnEvent>(events, 'conn');
    expect(conns).toHaveLength(2);
    for (const c of conns) expect(c.missed_bytes).toBeGreaterThan(0);
  });
});

describe('pcaps/ssh-login.pcap (ssh to OpenSSH: a login, then a wrong password and a right one)', () => {
  it('reports both banners of each connection and infers failure then success from encrypted sizes', async () => {
    const { events } = await runPipeline(P('ssh-login.pcap'));
    const banners = of<SshBannerEvent>(events, 'ssh_banner');
    expect(banners.length).toBeGreaterThanOrEqual(4);
    expect(banners.every((b) => /^SSH-2\.0-OpenSSH_/.test(b.banner))).toBe(true);
    const auths = of<SshAuthEvent>(events, 'ssh_auth').map((a) => [a.sport, a.auth]);
    const conns = [...new Set(auths.map((a) => a[0]))];
    expect(conns).toHaveLength(2);
    expect(auths.filter((a) => a[0] === conns[0]).map((a) => a[1])).toEqual(['success']);
    expect(auths.filter((a) => a[0] === conns[1]).map((a) => a[1])).toEqual(['failure', 'success']);
  });
});
