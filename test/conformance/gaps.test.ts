/**
 * TCP payload gaps in public captures: missed_bytes against the holes tshark's
 * own sequence numbers show, and the DNS-over-TCP parser recovering after a gap
 * against tshark's oracle. Corpus as for oracle.test.ts (TAPWATCH_CORPUS).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCorpus } from '../helpers/corpus.js';
import { runPipeline } from '../helpers/collect.js';
import type { ConnEvent, DnsEvent } from '../../src/events/types.js';

const corpus = findCorpus();

/** Bytes in sequence-space holes per connection, from tshark's raw sequence numbers (the oracle). */
function tsharkHoles(file: string): Map<string, number> {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.srcport',
    '-e', 'tcp.seq_raw', '-e', 'tcp.len', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.fin'], { encoding: 'utf8' });
  const next = new Map<string, number>();
  const holes = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const [stream, sport, seqS, lenS, syn, fin] = line.split('\t');
    const key = `${stream}/${sport}`, seq = Number(seqS), len = Number(lenS);
    holes.set(stream!, holes.get(stream!) ?? 0);
    const isSyn = syn === '1' || syn === 'True';
    if (isSyn) { next.set(key, seq + 1); continue; }
    const n = next.get(key);
    if (n !== undefined && seq > n) holes.set(stream!, holes.get(stream!)! + seq - n);
    next.set(key, Math.max(n ?? 0, seq + len + (fin === '1' || fin === 'True' ? 1 : 0)));
  }
  return holes;
}

const run = corpus.dir ? describe : describe.skip;
run(`TCP gaps in public captures${corpus.dir ? '' : ` (skipped: ${corpus.why})`}`, () => {
  const dir = corpus.dir ?? '';
  for (const f of ['zeek__ldap__gap-data-missing.pcapng', 'suricata-verify__dns-tcp-ts-gap__input.pcap']) {
    it(`${f}: missed_bytes on conn equals the sequence holes tshark shows`, async () => {
      const path = join(dir, 'public', f);
      const { events } = await runPipeline(path);
      const conns = events.filter((e): e is ConnEvent => e.type === 'conn' && e.proto === 'tcp');
      const holes = [...tsharkHoles(path).values()].sort((a, b) => a - b);
      expect(holes.some((h) => h > 0)).toBe(true);
      expect(conns.map((c) => c.missed_bytes).sort((a, b) => a - b)).toEqual(holes);
    });
  }

  it('suricata-verify dns-tcp-ts-gap: DNS over TCP recovers after the gap (every message tshark decodes)', async () => {
    const f = 'suricata-verify__dns-tcp-ts-gap__input.pcap';
    const oracle = JSON.parse(readFileSync(join(dir, 'oracle', `${f}.json`), 'utf8')) as { dns: { items: { qname: string; is_response: boolean; id: number }[] } };
    const { events } = await runPipeline(join(dir, 'public', f));
    const dns = events.filter((e): e is DnsEvent => e.type === 'dns');
    // Same messages; the order may differ (a message held behind the gap is delivered when the flow ends).
    const key = (id: number, r: boolean, q: string) => `${id} ${r ? 'response' : 'query'} ${q}`;
    expect(dns.map((d) => key(d.id, d.is_response, d.qname)).sort()).toEqual(oracle.dns.items.map((d) => key(d.id, d.is_response, d.qname)).sort());
  });
});
