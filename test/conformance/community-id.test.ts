/**
 * Community IDs on our events against tshark's own (its `communityid`
 * post-dissector, enabled with --enable-protocol communityid in tshark 4.0;
 * newer versions: -o ip.community_id.enable:TRUE) on captures of the public
 * corpus: every event that carries a community_id must carry the one tshark
 * computed for a packet at the event's time (each event's ts is the time of
 * one of its flow's packets: the SYN, the DNS message, the first segment of
 * an HTTP message, the flow's first packet for conn summaries).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../helpers/collect.js';

const PUBLIC = '/work/shared/pcaps/public';
const CORPUS = process.env['TAPWATCH_CORPUS'] ? join(process.env['TAPWATCH_CORPUS'], 'public') : PUBLIC;

/** TCP v4/v6, UDP/DNS, mDNS, ICMP and ICMPv6 (echo, ND, errors), VLAN/MPLS, SLL2, fragments, a SYN scan */
const FILES = [
  'zeek__communityid__tcp.pcap', 'chrissanders__synscan.pcapng', 'chrissanders__dns_query_nonexistent.pcapng',
  'chrissanders__dns_tcp.pcapng', 'zeek__dns__mdns.pcap', 'zeek__ipv6-http-atomic-frag.pcap', 'zeek__linux_dlt_sll2.pcap',
  'chrissanders__ipv6_fragments.pcapng', 'chrissanders__ip_frag_source.pcapng', 'zeek__mixed-vlan-mpls.pcap',
  'zeek__http__pipelined-requests.pcap', 'zeek__ssh__sshguess.pcap', 'stopddos__amp.TCP.reflection.SYNACK.pcap',
];

function hasTshark(): boolean {
  try { execFileSync('tshark', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** µs packet time → community ids tshark gave the packets at that time */
function tsharkIds(path: string): Map<number, Set<string>> {
  const out = execFileSync('tshark', ['--enable-protocol', 'communityid', '-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'communityid'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<number, Set<string>>();
  for (const line of out.split('\n')) {
    const [t, ids] = line.split('\t');
    if (!t || !ids) continue;
    const k = Math.round(Number(t) * 1e6);
    let s = m.get(k);
    if (!s) m.set(k, (s = new Set()));
    for (const id of ids.split(',')) s.add(id);
  }
  return m;
}

const ok = existsSync(CORPUS) && hasTshark();

describe.skipIf(!ok)('community_id on events equals tshark communityid', () => {
  it.each(FILES)('%s', async (name) => {
    const path = join(CORPUS, name);
    const oracle = tsharkIds(path);
    const { events } = await runPipeline(path);
    let checked = 0;
    const wrong: string[] = [];
    for (const e of events) {
      if (e.community_id === undefined) continue;
      const ids = oracle.get(Math.round(e.ts * 1e6));
      if (ids === undefined) continue; // a time tshark has no community id for (it has none for that packet)
      checked++;
      if (!ids.has(e.community_id)) wrong.push(`${e.type} ${e.src}:${e.sport} → ${e.dst}:${e.dport} ${e.community_id} (tshark: ${[...ids].join(' ')})`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });
});
