import type { Alert } from '../types.js';

/**
 * A coarse alert category (ECS rule.category, CEF cat=). Taken from the MITRE
 * ATT&CK technique when the alert has one (tactic of the technique), else
 * guessed from the detector's kind; "network_anomaly" when nothing fits.
 */
const TECHNIQUE_TACTIC: Readonly<Record<string, string>> = {
  T1595: 'reconnaissance', // Active Scanning
  T1046: 'discovery', // Network Service Discovery
  T1018: 'discovery', // Remote System Discovery
  T1110: 'credential_access', // Brute Force
  T1557: 'credential_access', // Adversary-in-the-Middle
  T1040: 'credential_access', // Network Sniffing
  T1498: 'impact', // Network Denial of Service
  T1499: 'impact', // Endpoint Denial of Service
  T1071: 'command_and_control', // Application Layer Protocol
  T1568: 'command_and_control', // Dynamic Resolution (DGA)
  T1572: 'command_and_control', // Protocol Tunneling
  T1573: 'command_and_control', // Encrypted Channel
  T1041: 'exfiltration', // Exfiltration Over C2 Channel
  T1048: 'exfiltration', // Exfiltration Over Alternative Protocol
  T1021: 'lateral_movement', // Remote Services
};

const KIND_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/scan|sweep|probe/i, 'reconnaissance'],
  [/brute|guess|password|login|auth/i, 'credential_access'],
  [/flood|dos\b|ddos|amplif/i, 'impact'],
  [/beacon|dga|dns_tunnel|tunnel|c2/i, 'command_and_control'],
  [/exfil|upload|volume/i, 'exfiltration'],
  [/capture_loss|drop|loss/i, 'sensor_health'],
];

export function alertCategory(alert: Pick<Alert, 'kind' | 'technique'>): string {
  if (alert.technique) {
    const base = alert.technique.split('.')[0]!.toUpperCase();
    const t = TECHNIQUE_TACTIC[base];
    if (t) return t;
  }
  for (const [re, cat] of KIND_HINTS) if (re.test(alert.kind)) return cat;
  return 'network_anomaly';
}
