/**
 * The detector registry. Each detector file exports a DetectorSpec (its name,
 * its documented defaults, a factory); adding a detector is one line in
 * DETECTORS. The configuration schema (src/config.ts) is built from these
 * defaults, so every tunable is validated and documented in one place.
 * Detectors import their types from spec.ts, never this file (no import cycle).
 */
import type { Detector } from './detector.js';
import type { DetectorContext, DetectorSettings, DetectorSpec } from './spec.js';
import { sizeAnomalySpec } from './size-anomaly.js';
import { typeFrequencySpec } from './type-frequency.js';
import { eventRateSpec } from './event-rate.js';
import { portScanSpec } from './port-scan.js';
import { hostSweepSpec } from './host-sweep.js';
import { synFloodSpec } from './syn-flood.js';
import { icmpFloodSpec } from './icmp-flood.js';
import { volumeSurgeSpec } from './volume-surge.js';
import { exfiltrationSpec } from './exfiltration.js';
import { beaconingSpec } from './beaconing.js';
import { threatIntelSpec } from './threat-intel.js';
import { behaviorAnomalySpec } from './behavior-anomaly.js';
import { sshBruteforceSpec } from './ssh-bruteforce.js';
import { sshLoginAfterBruteforceSpec } from './ssh-login-after-bruteforce.js';
import { dnsTunnelSpec } from './dns-tunnel.js';
import { dnsNxdomainBurstSpec } from './dns-nxdomain-burst.js';
import { httpScanSpec } from './http-scan.js';
import { slowScanSpec } from './slow-scan.js';
import { distributedScanSpec } from './distributed-scan.js';
import { reflectionSpec } from './reflection.js';
import { icmpTunnelSpec } from './icmp-tunnel.js';

export type { DetectorContext, DetectorSettings, DetectorSpec } from './spec.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySpec = DetectorSpec<any>;

export const DETECTORS: readonly AnySpec[] = [
  sizeAnomalySpec,
  typeFrequencySpec,
  eventRateSpec,
  portScanSpec,
  hostSweepSpec,
  synFloodSpec,
  icmpFloodSpec,
  volumeSurgeSpec,
  exfiltrationSpec,
  beaconingSpec,
  threatIntelSpec,
  behaviorAnomalySpec,
  sshBruteforceSpec,
  sshLoginAfterBruteforceSpec,
  dnsTunnelSpec,
  dnsNxdomainBurstSpec,
  httpScanSpec,
  slowScanSpec,
  distributedScanSpec,
  reflectionSpec,
  icmpTunnelSpec,
];

export function detectorDefaults(): Record<string, DetectorSettings> {
  const out: Record<string, DetectorSettings> = {};
  for (const s of DETECTORS) out[s.name] = { enabled: s.enabledByDefault ?? true, ...structuredClone(s.defaults) };
  return out;
}

export function buildDetectors(settings: Record<string, DetectorSettings>, ctx: DetectorContext): Detector[] {
  const out: Detector[] = [];
  for (const s of DETECTORS) {
    const c = settings[s.name];
    if (!c || !c.enabled) continue;
    const { enabled: _e, ...cfg } = c;
    out.push(s.create(cfg, ctx));
  }
  return out;
}
