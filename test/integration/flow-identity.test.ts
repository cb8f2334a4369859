/**
 * Flow identity on the bundled captures, through the whole pipeline with
 * every detector: uids and Community IDs on events, the flows behind an
 * alert in its evidence, and reproducible ids for a fixed seed.
 */
import { describe, it, expect } from 'vitest';
import { readCapture } from '../../src/capture/reader.js';
import { Pipeline } from '../../src/pipeline.js';
import { buildDetectors, detectorDefaults } from '../../src/detect/index.js';
import { CidrSet, PRIVATE_NETS } from '../../src/util/cidr.js';
import { parseSeed } from '../../src/flows/uid.js';
import type { NetEvent } from '../../src/events/types.js';
import type { Alert } from '../../src/alerts/types.js';

async function analyse(file: string, seed?: string): Promise<{ events: NetEvent[]; alerts: Alert[] }> {
  const events: NetEvent[] = [];
  const alerts: Alert[] = [];
  const p = new Pipeline({
    detectors: buildDetectors(detectorDefaults(), { homeNet: CidrSet.parse([...PRIVATE_NETS], 'homeNet') }),
    onEvent: (e) => events.push(e), onAlert: (a) => alerts.push(a),
    ...(seed !== undefined ? { uidSeed: parseSeed(seed) } : {}),
  });
  await readCapture(new URL(`../../pcaps/${file}`, import.meta.url).pathname, p);
  p.finish();
  return { events, alerts };
}

describe('flow identity', () => {
  it('every TCP/UDP event carries its flow uid and Community ID; one flow, one of each; ICMP carries a Community ID', async () => {
    const { events } = await analyse('benign-browsing.pcap');
    const { events: icmp } = await analyse('nmap-ping-sweep.pcap');
    const cidOf = new Map<string, string>();
    for (const e of events) {
      if (e.proto === 'icmp' || e.proto === 'icmpv6') continue;
      expect(e.uid, e.type).toMatch(/^C[0-9A-Za-z]{18}$/);
      expect(e.community_id, e.type).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
      const prev = cidOf.get(e.uid!);
      if (prev !== undefined) expect(e.community_id).toBe(prev);
      cidOf.set(e.uid!, e.community_id!);
    }
    const conns = events.filter((e) => e.type === 'conn');
    expect(conns.length).toBeGreaterThan(5);
    expect(new Set(conns.map((c) => c.uid)).size).toBe(conns.length); // a summary per flow, each its own uid
    const pings = icmp.filter((e) => e.type === 'icmp');
    expect(pings.length).toBeGreaterThan(0);
    for (const e of pings) { expect(e.community_id).toMatch(/^1:/); expect(e.uid).toBeUndefined(); }
  });

  it('the same seed gives the same uids and alert ids; another seed other ones', async () => {
    const a = await analyse('nmap-connect-scan.pcap', 'run-1');
    const b = await analyse('nmap-connect-scan.pcap', 'run-1');
    const c = await analyse('nmap-connect-scan.pcap', 'run-2');
    expect(b.events.map((e) => e.uid)).toEqual(a.events.map((e) => e.uid));
    expect(b.alerts.map((x) => x.id)).toEqual(a.alerts.map((x) => x.id));
    expect(c.events[0]!.uid).not.toBe(a.events[0]!.uid);
    expect(c.alerts[0]!.id).not.toBe(a.alerts[0]!.id);
    expect(c.events.map((e) => e.community_id)).toEqual(a.events.map((e) => e.community_id)); // the flow hash has no run seed
  });

  it('an alert names in evidence the uids and Community IDs of flows between its endpoints; its update keeps its id', async () => {
    const { events, alerts } = await analyse('nmap-connect-scan.pcap');
    const scan = alerts.filter((a) => a.kind === 'port_scan');
    expect(scan.length).toBeGreaterThanOrEqual(2);
    const byUid = new Map(events.filter((e) => e.uid).map((e) => [e.uid!, e]));
    for (const a of scan) {
      const uids = a.evidence.uids as string[], cids = a.evidence.community_ids as string[];
      expect(uids.length).toBeGreaterThan(0);
      expect(uids.length).toBeLessThanOrEqual(5);
      for (const u of uids) {
        const e = byUid.get(u)!;
        expect([e.src, e.dst].sort()).toEqual([a.src, a.dst].sort());
        expect(cids).toContain(e.community_id);
      }
    }
    const [first, ...updates] = scan;
    expect(first!.update).toBeUndefined();
    for (const u of updates) { expect(u.update).toBe(true); expect(u.id).toBe(first!.id); }
  });

  it('an alert caused by one flow carries that flow\'s community_id and uid at top level', async () => {
    const { events, alerts } = await analyse('ssh-bruteforce-success.pcap');
    const login = alerts.find((a) => a.kind === 'ssh_login_after_bruteforce' && !a.update)!;
    expect(login).toBeDefined();
    const success = events.find((e) => e.type === 'ssh_auth' && e.auth === 'success' && e.uid === login.uid);
    expect(success).toBeDefined();
    expect(login.community_id).toBe(success!.community_id);
    // many flows make a brute force: no single cause at top level
    expect(alerts.find((a) => a.kind === 'ssh_bruteforce')!.community_id).toBeUndefined();
  });
});
