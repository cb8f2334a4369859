/**
 * Transactions and conn fields on the bundled captures (pcaps/, real dig,
 * dnsmasq, curl, python http.server, ssh) and on public captures with TLS:
 * DNS answers carry their query's time and rtt, HTTP responses the method
 * and uri of the request they answer, conn summaries the protocols
 * recognised (`service`) and, with HOME_NET, `local_orig`/`local_resp` — in
 * process, through `tapwatch analyze --events` (the JSON lines), and with
 * flow worker threads (the same lines as one thread).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCapture } from '../../src/capture/reader.js';
import { Pipeline, type PipelineStats } from '../../src/pipeline.js';
import { findCorpus } from '../helpers/corpus.js';
import type { ConnEvent, DnsEvent, HttpRequestEvent, HttpResponseEvent, NetEvent } from '../../src/events/types.js';

const ROOT = resolve(__dirname, '../..');
const P = (f: string): string => join(ROOT, 'pcaps', f);
const corpus = findCorpus();
/** the victim side of the lab (pcaps/README.md): 10.77.0.1 is outside */
const LAB_HOME = ['10.77.0.2/31', '10.77.0.4/32', '10.77.0.10/31'];

async function run(path: string, homeNet?: string[]): Promise<{ events: NetEvent[]; stats: PipelineStats }> {
  const events: NetEvent[] = [];
  const p = new Pipeline({ detectors: [], onEvent: (e) => events.push(e), onAlert: () => {}, tracker: homeNet ? { homeNet } : {} });
  await readCapture(path, p);
  return { events, stats: p.finish() };
}
const of = <T extends NetEvent>(ev: NetEvent[], type: T['type']): T[] => ev.filter((e): e is T => e.type === type);

describe('DNS: answers carry their query\'s time and rtt', () => {
  it('dns-basic.pcap: every answer (UDP and TCP) is paired with the query of its id on its flow', async () => {
    const { events, stats } = await run(P('dns-basic.pcap'));
    const dns = of<DnsEvent>(events, 'dns');
    const answers = dns.filter((d) => d.is_response);
    expect(answers).toHaveLength(7);
    for (const a of answers) {
      const q = dns.find((d) => !d.is_response && d.uid === a.uid && d.id === a.id)!;
      expect(q, a.qname).toBeDefined();
      expect(a.query_ts).toBe(q.ts);
      expect([a.queryTsSec, a.queryTsNsec]).toEqual([q.tsSec, q.tsNsec]);
      // dnsmasq on a veth answers in well under a millisecond; never before the query
      expect(a.rtt!).toBeGreaterThan(0);
      expect(a.rtt!).toBeLessThan(0.05);
      // UDP: one packet each way, so rtt is exactly the difference of the two packet times
      if (a.proto === 'udp') expect(Math.round(a.rtt! * 1e6)).toBe(Math.round((a.ts - q.ts) * 1e6));
    }
    for (const q of dns.filter((d) => !d.is_response)) expect(q.rtt).toBeUndefined();
    expect(stats.transactions).toEqual({ dns_queries: 7, dns_answered: 7 });
  });

  it('dns-nxdomain-burst.pcap: a burst of NXDOMAIN lookups, each answer timed', async () => {
    const { events, stats } = await run(P('dns-nxdomain-burst.pcap'));
    const answers = of<DnsEvent>(events, 'dns').filter((d) => d.is_response);
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.every((a) => a.rtt !== undefined && a.rtt >= 0)).toBe(true);
    expect(stats.transactions['dns_answered']).toBe(answers.length);
    expect(stats.transactions['dns_unmatched_responses']).toBeUndefined();
  });

  it.skipIf(corpus.dir === null)('a capture of answers without their queries: none timed, every one counted', async () => {
    const { events, stats } = await run(join(corpus.dir!, 'public', 'stopddos__amp.dns.RRSIG.fragmented.pcap'));
    const answers = of<DnsEvent>(events, 'dns').filter((d) => d.is_response);
    expect(answers.length).toBeGreaterThan(100);
    expect(answers.filter((a) => a.rtt !== undefined)).toEqual([]);
    expect(stats.transactions['dns_unmatched_responses']).toBe(answers.length);
  });
});

describe('HTTP: responses carry the request they answer', () => {
  it('http-basic.pcap: by order on each connection (keep-alive, HEAD, a request split over segments)', async () => {
    const { events, stats } = await run(P('http-basic.pcap'));
    const reqs = of<HttpRequestEvent>(events, 'http_request');
    const resps = of<HttpResponseEvent>(events, 'http_response');
    expect(resps).toHaveLength(reqs.length);
    for (const r of resps) {
      const mine = reqs.filter((q) => q.uid === r.uid);
      const q = mine[r.trans_depth! - 1]!;
      expect([r.method, r.uri]).toEqual([q.method, q.uri]);
      expect(q.trans_depth).toBe(r.trans_depth);
    }
    // the keep-alive connection: three requests, answered 1, 2, 3
    const keep = resps.filter((r) => r.trans_depth === 3)[0]!;
    expect(resps.filter((r) => r.uid === keep.uid).map((r) => `${r.trans_depth} ${r.method} ${r.uri}`))
      .toEqual(['1 GET /index.html', '2 GET /style.css', '3 GET /about.html']);
    expect(resps.find((r) => r.method === 'HEAD')!.uri).toBe('/api/status.json');
    expect(stats.transactions).toEqual({ http_answered: 8 });
  });

  it.skipIf(corpus.dir === null)('zeek pipelined-requests: five pipelined GETs on one connection, answered in order', async () => {
    const { events } = await run(join(corpus.dir!, 'public', 'zeek__http__pipelined-requests.pcap'));
    const reqs = of<HttpRequestEvent>(events, 'http_request').map((q) => `${q.trans_depth} ${q.uri}`);
    const resps = of<HttpResponseEvent>(events, 'http_response').map((r) => `${r.trans_depth} ${r.uri}`);
    expect(resps).toEqual(reqs);
    expect(resps).toHaveLength(5);
  });
});

describe('conn: service, local_orig, local_resp', () => {
  it('service names what was recognised on each flow; local_* follow HOME_NET and are absent without one', async () => {
    const cases: [string, string[]][] = [
      ['dns-basic.pcap', ['dns']], ['http-basic.pcap', ['http']], ['ssh-login.pcap', ['ssh']], ['benign-browsing.pcap', ['http']], ['benign-dns.pcap', ['dns']],
    ];
    for (const [file, services] of cases) {
      const home = of<ConnEvent>((await run(P(file), LAB_HOME)).events, 'conn');
      const none = of<ConnEvent>((await run(P(file))).events, 'conn');
      expect([...new Set(home.map((c) => c.service ?? '-'))].sort(), file).toEqual(services);
      for (const c of home) {
        expect(c.local_orig, file).toBe(c.src !== '10.77.0.1');
        expect(c.local_resp, file).toBe(c.dst !== '10.77.0.1');
      }
      expect(none.some((c) => 'local_orig' in c || 'local_resp' in c), file).toBe(false);
    }
  });

  it('a port scan recognises nothing: no service on its flows', async () => {
    const conns = of<ConnEvent>((await run(P('nmap-syn-scan.pcap'))).events, 'conn');
    expect(conns.length).toBeGreaterThan(100);
    expect(conns.filter((c) => c.service !== undefined)).toEqual([]);
  });

  it.skipIf(corpus.dir === null)('TLS, TLS inside an HTTP CONNECT tunnel, SSH answering an HTTP probe (public captures)', async () => {
    const svc = async (f: string): Promise<string[]> =>
      [...new Set(of<ConnEvent>((await run(join(corpus.dir!, 'public', f))).events, 'conn').map((c) => c.service ?? '-'))].sort();
    expect(await svc('zeek__tls__tls-conn-with-extensions.pcap')).toEqual(['tls']);
    expect(await svc('zeek__http__connect-with-header.pcap')).toContain('http,tls');
    expect(await svc('zeek__http__get-to-ssh-server.pcap')).toEqual(['http,ssh']);
  });
});

describe('tapwatch analyze --events (dist: npm run build first)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapwatch-tx-'));
  const cli = join(ROOT, 'dist/cli/main.js');
  const lines = (f: string): Record<string, unknown>[] => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const analyze = (out: string, ...args: string[]): Record<string, unknown>[] => {
    execFileSync('node', [cli, 'analyze', '--quiet', '--uid-seed', 'tx', '--events', out, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    return lines(out);
  };
  beforeAll(() => { if (!existsSync(cli)) throw new Error('dist/cli/main.js missing: run npm run build'); });

  it('writes rtt and an exact query_ts, HTTP method/uri, conn service and local_*; the default HOME_NET (private nets) puts both lab ends inside', () => {
    const dns = analyze(join(dir, 'dns.json'), P('dns-basic.pcap'));
    const a = dns.find((e) => e['type'] === 'dns' && e['is_response'] === true)!;
    const q = dns.find((e) => e['type'] === 'dns' && e['is_response'] === false && e['id'] === a['id'])!;
    expect(typeof a['rtt']).toBe('number');
    const raw = readFileSync(join(dir, 'dns.json'), 'utf8');
    expect(raw).toMatch(/"query_ts":\d{10}\.\d{6}\}/);
    expect(raw).not.toMatch(/queryTs/);
    expect(a['query_ts']).toBe(q['ts']);
    for (const c of dns.filter((e) => e['type'] === 'conn')) expect([c['service'], c['local_orig'], c['local_resp']]).toEqual(['dns', true, true]);
    const none = analyze(join(dir, 'none.json'), '--set', 'network.homeNet=[]', P('dns-basic.pcap'));
    for (const c of none.filter((e) => e['type'] === 'conn')) { expect(c).not.toHaveProperty('local_orig'); expect(c).not.toHaveProperty('local_resp'); }
  });

  it.skipIf(corpus.dir === null)('flows.dnsPending caps what waits: with room for one query, overlapping lookups lose their pairing, counted', () => {
    const f = join(corpus.dir!, 'public', 'zeek__wikipedia.pcap');
    const summary = (...args: string[]): string => {
      const r = spawnSync('node', [cli, 'analyze', ...args, f], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return r.stderr;
    };
    const count = (s: string, k: string): number => Number(new RegExp(`^\\s+${k}\\s+(\\d+)$`, 'm').exec(s)?.[1] ?? 0);
    const free = summary(), tight = summary('--set', 'flows.dnsPending.total=1');
    expect(count(free, 'dns_answered')).toBe(14);
    expect(count(free, 'dns_evicted_total_cap')).toBe(0);
    expect(count(tight, 'dns_evicted_total_cap')).toBeGreaterThan(0);
    expect(count(tight, 'dns_answered') + count(tight, 'dns_evicted_total_cap')).toBeGreaterThanOrEqual(count(free, 'dns_answered'));
    // every query message is counted once, as a query or as a retransmission (a dropped original makes its repeat a new query)
    expect(count(tight, 'dns_queries') + count(tight, 'dns_retransmits')).toBe(count(free, 'dns_queries') + count(free, 'dns_retransmits'));
  });

  it('flow worker threads write the same events (HOME_NET reaches the workers)', () => {
    const args = ['--set', 'network.homeNet=["10.77.0.2/32"]', P('dns-basic.pcap'), P('http-basic.pcap'), P('ssh-login.pcap')];
    const one = analyze(join(dir, 'w1.json'), '--workers', '1', ...args);
    const two = analyze(join(dir, 'w2.json'), '--workers', '2', ...args);
    // uids come from per-worker sequences: compare everything else, in order
    const strip = (e: Record<string, unknown>): Record<string, unknown> => { const { uid: _u, ...r } = e; return r; };
    expect(two.map(strip)).toEqual(one.map(strip));
    const conns = one.filter((e) => e['type'] === 'conn');
    expect(conns.some((c) => c['local_resp'] === true && c['local_orig'] === false)).toBe(true);
    expect(new Set(conns.map((c) => c['service']))).toEqual(new Set(['dns', 'http', 'ssh']));
  });
});
