/**
 * What each state cap held and threw away, for the summary and the stats
 * line: a flood is only bounded honestly when it is also said which caps
 * evicted what ("flow table: 1,234,567 evicted at cap 200,000; port_scan
 * pairs: …").
 *
 * Detectors report their state in stats() as `<table>` (entries held) and
 * `<table>_evicted` (entries forgotten to stay under the cap); the cap itself
 * is a key of the detector's configuration. CAP_KEYS names, per detector,
 * which configuration key caps which table. A cap that refuses instead of
 * evicting (syn_flood's and icmp_flood's `maxHot` windows, type_frequency's
 * `maxEvents` ring dropping its oldest event early) is reported the same way,
 * with its refusal counter.
 */
import type { Detector } from './detector.js';

export interface CapReport {
  /** "flow table", "port_scan pairs" … */
  name: string;
  /** the configuration key that sets it ("flows.maxFlows", "detectors.port_scan.maxPairs") */
  key: string;
  cap: number;
  /** entries held now */
  entries: number;
  /** entries evicted (or refused) because the cap was reached */
  evicted: number;
}

/** detector → [stats key of the table size, stats key of its evictions, configuration key of its cap] */
export const CAP_KEYS: Readonly<Record<string, readonly (readonly [string, string, string])[]>> = {
  size_anomaly: [['baselines', 'baselines_evicted', 'maxKeys']],
  type_frequency: [['window_events', 'window_capped', 'maxEvents']],
  event_rate: [['sources', 'sources_evicted', 'maxSources']],
  port_scan: [['pairs', 'pairs_evicted', 'maxPairs']],
  host_sweep: [['keys', 'keys_evicted', 'maxKeys'], ['episodes', 'episodes_evicted', 'maxEpisodes']],
  syn_flood: [['dests', 'dests_evicted', 'maxDests'], ['hot', 'hot_refused', 'maxHot']],
  icmp_flood: [['dests', 'dests_evicted', 'maxDests'], ['hot', 'hot_refused', 'maxHot']],
  volume_surge: [['dests', 'dests_evicted', 'maxDests']],
  exfiltration: [['hosts', 'hosts_evicted', 'maxHosts']],
  beaconing: [['pairs', 'pairs_evicted', 'maxPairs']],
  threat_intel: [['hit_records', 'hit_records_evicted', 'maxHits']],
  behavior_anomaly: [['hosts', 'hosts_evicted', 'maxHosts']],
  ssh_bruteforce: [['sources', 'sources_evicted', 'maxSources']],
  ssh_login_after_bruteforce: [['pairs', 'pairs_evicted', 'maxPairs']],
  dns_tunnel: [['keys', 'keys_evicted', 'maxKeys']],
  dns_nxdomain_burst: [['clients', 'clients_evicted', 'maxClients']],
  http_scan: [['pairs', 'pairs_evicted', 'maxPairs'], ['connections', 'connections_evicted', 'maxConnections']],
  slow_scan: [['sources', 'sources_evicted', 'maxSources']],
  distributed_scan: [['targets', 'targets_evicted', 'maxTargets']],
  reflection: [['victims', 'victims_evicted', 'maxVictims']],
  icmp_tunnel: [['pairs', 'pairs_evicted', 'maxPairs']],
};

/** The configuration keys of a detector's state caps (the ones scaled with limits.memoryMiB). */
export function capKeysOf(detector: string): string[] {
  return (CAP_KEYS[detector] ?? []).map(([, , k]) => k);
}

/** table names as the summary says them */
const LABEL: Readonly<Record<string, string>> = { window_events: 'window events', hit_records: 'hit records', hot: 'hot windows' };

/** The caps of one detector with what they hold and evicted (detectors without a CAP_KEYS entry: none). */
export function detectorCaps(d: Detector): CapReport[] {
  const keys = CAP_KEYS[d.name];
  if (keys === undefined) return [];
  const cfg = (d as unknown as { cfg?: Record<string, unknown> }).cfg ?? {};
  const s = d.stats();
  const out: CapReport[] = [];
  for (const [size, evicted, capKey] of keys) {
    const cap = cfg[capKey];
    if (typeof cap !== 'number') continue;
    out.push({ name: `${d.name} ${LABEL[size] ?? size}`, key: `detectors.${d.name}.${capKey}`, cap, entries: s[size] ?? 0, evicted: s[evicted] ?? 0 });
  }
  return out;
}
