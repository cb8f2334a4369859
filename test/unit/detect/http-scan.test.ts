import { describe, it, expect } from 'vitest';
import { HttpScan, HTTP_SCAN_DEFAULTS, pathOf, type HttpScanConfig } from '../../../src/detect/http-scan.js';
import type { HttpRequestEvent, HttpResponseEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0';

function req(ts: number, uri: string, ua: string | null = FIREFOX, src = '203.0.113.9', sport = 41000, dst = '10.0.0.80'): HttpRequestEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'http_request', src, sport, dst, dport: 80, proto: 'tcp',
    size: 120, method: 'GET', host: 'intranet', uri, version: '1.1', user_agent: ua,
  };
}
/** the server's answer on the same connection: src = server, dst = client */
function resp(ts: number, status: number, client = '203.0.113.9', cport = 41000, server = '10.0.0.80'): HttpResponseEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'http_response', src: server, sport: 80, dst: client, dport: cport,
    proto: 'tcp', size: 200, status, version: '1.1', reason_phrase: status === 200 ? 'OK' : 'Not Found', length: 10,
  };
}

function run(cfg: Partial<HttpScanConfig> = {}) {
  const d = new HttpScan({ ...HTTP_SCAN_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert): void => { alerts.push(a); };
  const feed = (e: HttpRequestEvent | HttpResponseEvent): void => { d.advance(e.ts, emit); d.onEvent(e, emit); };
  /** n requests for distinct paths on keep-alive connections of 20, each answered with status(i) */
  const scan = (n: number, t0: number, status: (i: number) => number, ua: string | null = FIREFOX, from = 0): void => {
    for (let i = from; i < from + n; i++) {
      const port = 41000 + Math.floor(i / 20);
      feed(req(t0 + i * 0.01, `/dir${i}/?q=${i}`, ua, '203.0.113.9', port));
      feed(resp(t0 + i * 0.01 + 0.005, status(i), '203.0.113.9', port));
    }
  };
  return { d, alerts, emit, feed, scan };
}

describe('http_scan', () => {
  it('reduces a request URI to its path', () => {
    expect(pathOf('/a/b?c=d#e')).toBe('/a/b');
    expect(pathOf('http://example.com:8080/x?y')).toBe('/x');
    expect(pathOf('http://example.com')).toBe('/');
    expect(pathOf('*')).toBe('*');
  });

  it('stays silent at 49 distinct missed paths and alerts at the 50th (wordlist rule)', () => {
    const r = run();
    r.scan(49, 1000, () => 404);
    expect(r.alerts).toHaveLength(0);
    r.scan(1, 1000, () => 404, FIREFOX, 49);
    expect(r.alerts).toHaveLength(1);
    const a = r.alerts[0]!;
    expect(a).toMatchObject({ kind: 'http_scan', src: '203.0.113.9', dst: '10.0.0.80', dport: 80, technique: 'T1595.003' });
    // judged when the 50th path is asked for: 49 answers so far, all 404
    expect(a.evidence).toMatchObject({ rules: ['wordlist'], distinct_paths: 50, errors_4xx: 49, answered: 49 });
    expect(a.evidence.sample_missed_paths).toEqual(['/dir0/', '/dir1/', '/dir2/', '/dir3/', '/dir4/', '/dir5/', '/dir6/', '/dir7/', '/dir8/', '/dir9/']);
  });

  it('needs half of the answers to be 4xx: a crawler getting 200s stays silent', () => {
    const crawler = run();
    crawler.scan(200, 1000, () => 200);
    expect(crawler.alerts).toHaveLength(0);
    const half = run();
    half.scan(100, 1000, (i) => (i < 50 ? 200 : 404)); // 50 of 100 after the last answer: exactly 0.5
    expect(half.alerts).toHaveLength(1);
    expect(half.alerts[0]!.evidence).toMatchObject({ answered: 100, errors_4xx: 50, error_ratio: 0.5 });
    const under = run();
    under.scan(100, 1000, (i) => (i < 51 ? 200 : 404)); // 49 of 100
    expect(under.alerts).toHaveLength(0);
  });

  it('does not judge the 4xx share without enough answers', () => {
    const r = run();
    for (let i = 0; i < 100; i++) r.feed(req(1000 + i * 0.01, `/p${i}`)); // asymmetric capture: requests only
    expect(r.alerts).toHaveLength(0);
  });

  it('raises on a single request with a scanner user agent, and not for curl or wget', () => {
    const r = run();
    r.feed(req(1000, '/', 'curl/7.88.1'));
    r.feed(req(1001, '/', 'Wget/1.21.3', '203.0.113.10'));
    r.feed(req(1002, '/', 'python-requests/2.31.0', '203.0.113.11'));
    expect(r.alerts).toHaveLength(0);
    r.feed(req(1003, '/', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)', '203.0.113.12'));
    r.feed(req(1004, '/x', 'sqlmap/1.7#stable (https://sqlmap.org)', '203.0.113.13'));
    r.feed(req(1005, '/x', 'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)', '203.0.113.14'));
    r.feed(req(1006, '/x', 'Fuzz Faster U Fool v2.1.0', '203.0.113.15'));
    expect(r.alerts.map((a) => a.src)).toEqual(['203.0.113.12', '203.0.113.13', '203.0.113.14', '203.0.113.15']);
    expect(r.alerts[0]).toMatchObject({ technique: 'T1595', severity: 'medium' });
    expect(r.alerts[0]!.evidence).toMatchObject({ rules: ['scanner_user_agent'], scanner_token: 'nikto' });
  });

  it('alerts once per (client, server) and reports both rules and the totals when the scan ends', () => {
    const r = run();
    r.scan(300, 1000, () => 404, 'gobuster/3.6');
    expect(r.alerts).toHaveLength(1);
    r.d.advance(1003 + 301, r.emit);
    expect(r.alerts).toHaveLength(2);
    const u = r.alerts[1]!;
    expect(u).toMatchObject({ update: true, src: '203.0.113.9', dst: '10.0.0.80', severity: 'high', technique: 'T1595.003' });
    expect(u.evidence).toMatchObject({ requests: 300, errors_4xx: 300, rules: ['scanner_user_agent', 'wordlist'], episode_end: true });
    expect(u.evidence.distinct_paths as number).toBeGreaterThan(280); // estimated above 64 distinct paths, never above 300
  });

  it('starts the window again after 300 s without an alert', () => {
    const r = run();
    r.scan(40, 1000, () => 404);
    r.scan(40, 1301, () => 404, FIREFOX, 40);
    expect(r.alerts).toHaveLength(0);
  });

  it('stays silent for ordinary browsing with a few broken links', () => {
    const r = run();
    const pages = ['/', '/style.css', '/logo.png', '/api/status.json', '/about.html', '/news.html', '/favicon.ico', '/missing.png'];
    let t = 1000;
    for (let k = 0; k < 200; k++) {
      const p = pages[k % pages.length]!;
      r.feed(req(t += 0.7, p, FIREFOX, '203.0.113.9', 41000 + (k >> 3)));
      r.feed(resp(t + 0.01, p === '/favicon.ico' || p === '/missing.png' ? 404 : 200, '203.0.113.9', 41000 + (k >> 3)));
    }
    r.d.flush(t, r.emit);
    expect(r.alerts).toHaveLength(0);
  });

  it('never alerts on allow-listed clients', () => {
    const r = run({ allow: ['203.0.113.0/24'] });
    r.scan(100, 1000, () => 404, 'Nessus SOAP');
    expect(r.alerts).toHaveLength(0);
  });

  it('keeps at most maxPairs pairs and maxConnections connections when a million clients send one request each', () => {
    const r = run();
    for (let i = 0; i < 1_000_000; i++) {
      r.d.onEvent(req(1000 + i / 1000, '/', FIREFOX, `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`, 1024 + (i % 60000)), r.emit);
    }
    const s = r.d.stats();
    expect(s.pairs).toBeLessThanOrEqual(HTTP_SCAN_DEFAULTS.maxPairs);
    expect(s.connections).toBeLessThanOrEqual(HTTP_SCAN_DEFAULTS.maxConnections);
    expect(s.pairs_evicted).toBe(1_000_000 - HTTP_SCAN_DEFAULTS.maxPairs);
  }, 240_000);
});
