/** Incidents: alerts about one attacker or one victim grouped into one story (src/alerts/incidents.ts). */
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { Incidents, stageOf, combinedSeverity } from '../../../src/alerts/incidents.js';
import { readCapture } from '../../../src/capture/reader.js';
import { Pipeline } from '../../../src/pipeline.js';
import { buildDetectors } from '../../../src/detect/index.js';
import { defaultConfig } from '../../../src/config.js';
import { CidrSet } from '../../../src/util/cidr.js';
import type { Alert, Severity } from '../../../src/alerts/types.js';

const A = '10.77.0.1', V = '10.77.0.2', X = '198.51.100.7';
function alert(kind: string, ts: number, src: string | undefined, dst: string | undefined, severity: Severity = 'medium', o: Partial<Alert> = {}): Alert {
  const a: Alert = { kind, severity, confidence: 0.5, ts, ts_first: ts, ts_last: ts, summary: kind, evidence: {}, ...o };
  if (src) a.src = src;
  if (dst) a.dst = dst;
  return a;
}
type Ev = { incident_id: string; stages: string[]; attackers: string[]; victims: string[]; timeline: { kind: string }[] };
const ev = (r: Alert) => r.evidence as Ev;

function run(alerts: Alert[], o = {}) {
  const inc = new Incidents(o);
  const out: Alert[] = [];
  for (const a of alerts) { inc.advance(a.ts, (r) => out.push(r)); inc.offer(a, (r) => out.push(r)); }
  inc.flush(1e10, (r) => out.push(r));
  return { inc, out };
}

describe('stageOf / combinedSeverity', () => {
  it('maps detectors and ATT&CK techniques to kill-chain stages', () => {
    expect(stageOf({ kind: 'port_scan' })).toBe('scan');
    expect(stageOf({ kind: 'slow_scan' })).toBe('scan');
    expect(stageOf({ kind: 'distributed_scan' })).toBe('scan');
    expect(stageOf({ kind: 'icmp_tunnel' })).toBe('c2');
    expect(stageOf({ kind: 'reflection' })).toBe('impact');
    expect(stageOf({ kind: 'ssh_bruteforce' })).toBe('brute_force');
    expect(stageOf({ kind: 'ssh_login_after_bruteforce' })).toBe('login');
    expect(stageOf({ kind: 'exfiltration' })).toBe('exfiltration');
    expect(stageOf({ kind: 'some_new_detector', technique: 'T1110.003' })).toBe('brute_force');
    expect(stageOf({ kind: 'long_horizon_scan' })).toBe('scan');
    expect(stageOf({ kind: 'event_rate' })).toBe('anomaly');
  });
  it('is the highest alert severity, one level up for two chain stages, critical for four', () => {
    expect(combinedSeverity(['medium'], ['scan'])).toBe('medium');
    expect(combinedSeverity(['medium', 'high'], ['scan', 'brute_force'])).toBe('critical');
    expect(combinedSeverity(['low', 'medium'], ['scan', 'impact'])).toBe('medium');
    expect(combinedSeverity(['low'], ['scan', 'brute_force', 'login', 'exfiltration'])).toBe('critical');
  });
});

describe('incidents: grouping', () => {
  const chain = [
    alert('port_scan', 100, A, V), alert('ssh_bruteforce', 220, A, V, 'high'),
    alert('ssh_login_after_bruteforce', 250, A, V, 'critical'), alert('exfiltration', 280, V, X),
  ];

  it('scan → brute force → login → exfiltration by the victim: one incident, stages in order, critical', () => {
    const { out } = run(chain);
    const last = out.at(-1)!;
    expect(last).toMatchObject({ kind: 'incident', severity: 'critical', src: A, count: 4 });
    expect(ev(last).stages).toEqual(['scan', 'brute_force', 'login', 'exfiltration']);
    expect(ev(last).timeline.map((e) => e.kind)).toEqual(['port_scan', 'ssh_bruteforce', 'ssh_login_after_bruteforce', 'exfiltration']);
    expect(ev(last).attackers).toEqual([A]);
    expect(ev(last).victims).toEqual([V, X]);
    expect(new Set(out.map((r) => ev(r).incident_id)).size).toBe(1);
  });

  it('is written from its second alert, then as an update (same id) at each new stage', () => {
    const { out } = run(chain);
    expect(out.map((r) => !!r.update)).toEqual([false, true, true]);
    expect(out.map((r) => r.ts)).toEqual([220, 250, 280]);
  });

  it('the id is stable: the same alerts give the same id in another run', () => {
    expect(ev(run(chain).out[0]!).incident_id).toBe(ev(run(chain).out[0]!).incident_id);
    expect(ev(run(chain).out[0]!).incident_id).toMatch(/^inc-[0-9a-f]{16}$/);
  });

  it('a lone alert is no incident; unrelated attackers against unrelated victims are separate incidents', () => {
    expect(run([alert('port_scan', 100, A, V)]).out).toEqual([]);
    const { out } = run([alert('port_scan', 100, A, V), alert('port_scan', 110, '10.9.9.9', '10.9.9.10'), alert('ssh_bruteforce', 120, A, V)]);
    expect(out).toHaveLength(1);
    expect(ev(out[0]!).attackers).toEqual([A]);
  });

  it('a spoofed flood (no source) joins the incident of its victim', () => {
    const { out } = run([alert('port_scan', 100, A, V), alert('syn_flood', 130, undefined, V, 'high')]);
    expect(ev(out[0]!).stages).toEqual(['scan', 'impact']);
  });

  it('an alert after the horizon opens a new incident', () => {
    const { out, inc } = run([alert('port_scan', 100, A, V), alert('ssh_bruteforce', 100 + 3601, A, V)], { horizon: 3600 });
    expect(out).toEqual([]);
    expect(inc.stats().incidents).toBe(2);
  });

  it('updates of an alert already in the timeline refresh its entry, they add no alert', () => {
    const { out } = run([alert('port_scan', 100, A, V), alert('ssh_bruteforce', 120, A, V), alert('ssh_bruteforce', 180, A, V, 'high', { update: true, count: 3, summary: 'ended' })]);
    const last = out.at(-1)!;
    expect(last.count).toBe(2);
    expect(ev(last).timeline[1]).toMatchObject({ kind: 'ssh_bruteforce', summary: 'ended', count: 3 });
  });

  it('a burst of updates at one packet time (end of input) writes one incident record, not one per update', () => {
    const inc = new Incidents();
    const out: Alert[] = [];
    const push = (r: Alert) => out.push(r);
    for (const a of [alert('port_scan', 100, A, V), alert('ssh_bruteforce', 120, A, V)]) inc.offer(a, push);
    expect(out).toHaveLength(1);
    for (const a of [alert('port_scan', 500, A, V, 'medium', { update: true }), alert('ssh_bruteforce', 500, A, V, 'medium', { update: true })]) inc.offer(a, push);
    inc.flush(500, push);
    expect(out.map((r) => `${r.ts}${r.update ? ' update' : ''}`)).toEqual(['120', '500 update']);
    // two medium alerts in two chain stages: high, and updates do not ratchet it further
    expect(out.map((r) => r.severity)).toEqual(['high', 'high']);
  });

  it('keeps at most maxIncidents open: the least recently active is closed early, counted', () => {
    const alerts = Array.from({ length: 5 }, (_, i) => alert('port_scan', 100 + i, `10.1.0.${i}`, `10.2.0.${i}`));
    const { inc } = run(alerts, { maxIncidents: 2 });
    expect(inc.stats()).toMatchObject({ incidents: 5, closed_early: 3 });
  });
});

describe('incidents on real captures', () => {
  const DIR = resolve(__dirname, '../../../pcaps');
  async function incidentsOf(files: string[], homeNet?: string[]) {
    const cfg = defaultConfig();
    if (homeNet) cfg.network.homeNet = homeNet;
    const recs: Alert[] = [];
    const p = new Pipeline({
      detectors: buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet) }),
      onAlert: () => {}, onIncident: (r) => recs.push(r),
    });
    for (const f of files) await readCapture(resolve(DIR, f), p);
    p.finish();
    return recs;
  }

  it('ssh-bruteforce-success.pcap: one incident, brute_force → login, critical, attacker and victim named', async () => {
    const recs = await incidentsOf(['ssh-bruteforce-success.pcap']);
    expect(recs.length).toBeGreaterThan(0);
    const last = recs.at(-1)!;
    expect(last).toMatchObject({ kind: 'incident', severity: 'critical', src: A, dst: V });
    expect(ev(last).stages).toEqual(['brute_force', 'login']);
    expect(new Set(recs.map((r) => ev(r).incident_id)).size).toBe(1);
  });

  it('nmap scan + SSH brute force + login + 30 MiB upload by the victim, read in one run: one incident with all four stages', async () => {
    const recs = await incidentsOf(['nmap-syn-scan.pcap', 'ssh-bruteforce-success.pcap', 'large-upload.pcap'], ['10.77.0.2/32']);
    const last = recs.at(-1)!;
    expect(ev(last).stages).toEqual(['scan', 'brute_force', 'login', 'exfiltration']);
    expect(last).toMatchObject({ severity: 'critical', src: A });
    expect(new Set(recs.map((r) => ev(r).incident_id)).size).toBe(1);
    console.log(`kill chain incident: ${recs.length} records, last: ${last.summary}`);
  });
});
