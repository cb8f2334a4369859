import type { Alert } from '../types.js';
import { attackMapping } from './attack.js';

/**
 * A coarse alert category (ECS rule.category, CEF cat=): the ATT&CK tactic of
 * the alert's technique in snake case ("discovery", "credential_access" …)
 * when the technique is in the ATT&CK table (attack.ts), else guessed from
 * the detector's kind; "network_anomaly" when nothing fits.
 */
const KIND_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/scan|sweep|probe/i, 'reconnaissance'],
  [/brute|guess|password|login|auth/i, 'credential_access'],
  [/flood|dos\b|ddos|amplif/i, 'impact'],
  [/beacon|dga|dns_tunnel|tunnel|c2/i, 'command_and_control'],
  [/exfil|upload|volume/i, 'exfiltration'],
  [/capture_loss|drop|loss/i, 'sensor_health'],
];

export function alertCategory(alert: Pick<Alert, 'kind' | 'technique'>): string {
  const tactic = attackMapping(alert.technique)?.tactic;
  if (tactic) return tactic.name.toLowerCase().replace(/ /g, '_');
  for (const [re, cat] of KIND_HINTS) if (re.test(alert.kind)) return cat;
  return 'network_anomaly';
}
