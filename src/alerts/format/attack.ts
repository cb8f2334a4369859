/**
 * MITRE ATT&CK (Enterprise) ids and names for the techniques tapwatch's
 * detectors name, with the tactic each belongs to. Names are ATT&CK's own
 * (attack.mitre.org, Enterprise v16–v18: none of these changed name or
 * tactic in that span), so a SIEM that joins on threat.technique.id or
 * threat.tactic.id against ATT&CK finds the same words.
 *
 * ECS puts a sub-technique in threat.technique.subtechnique.* and its parent
 * in threat.technique.* (as Elastic's own detection rules do); formatEcs
 * follows that. An id not in this table is passed through with no name (a
 * detector added later), never given an invented one: the unit test fails
 * when a bundled detector uses an id missing here.
 */

export interface AttackTactic {
  id: string;
  name: string;
}

export interface AttackTechnique {
  id: string;
  name: string;
  /** ATT&CK tactic(s) of the technique; all techniques tapwatch uses belong to one */
  tactic: AttackTactic;
}

export const TACTICS = {
  reconnaissance: { id: 'TA0043', name: 'Reconnaissance' },
  credential_access: { id: 'TA0006', name: 'Credential Access' },
  discovery: { id: 'TA0007', name: 'Discovery' },
  lateral_movement: { id: 'TA0008', name: 'Lateral Movement' },
  command_and_control: { id: 'TA0011', name: 'Command and Control' },
  exfiltration: { id: 'TA0010', name: 'Exfiltration' },
  impact: { id: 'TA0040', name: 'Impact' },
} as const satisfies Record<string, AttackTactic>;

const T = (id: string, name: string, tactic: AttackTactic): AttackTechnique => ({ id, name, tactic });

/** technique and sub-technique ids → ATT&CK name and tactic */
export const TECHNIQUES: Readonly<Record<string, AttackTechnique>> = Object.fromEntries(
  [
    T('T1595', 'Active Scanning', TACTICS.reconnaissance),
    T('T1595.001', 'Scanning IP Blocks', TACTICS.reconnaissance),
    T('T1595.002', 'Vulnerability Scanning', TACTICS.reconnaissance),
    T('T1595.003', 'Wordlist Scanning', TACTICS.reconnaissance),
    T('T1046', 'Network Service Discovery', TACTICS.discovery),
    T('T1018', 'Remote System Discovery', TACTICS.discovery),
    T('T1040', 'Network Sniffing', TACTICS.credential_access),
    T('T1110', 'Brute Force', TACTICS.credential_access),
    T('T1110.001', 'Password Guessing', TACTICS.credential_access),
    T('T1110.003', 'Password Spraying', TACTICS.credential_access),
    T('T1557', 'Adversary-in-the-Middle', TACTICS.credential_access),
    T('T1021', 'Remote Services', TACTICS.lateral_movement),
    T('T1021.004', 'SSH', TACTICS.lateral_movement),
    T('T1071', 'Application Layer Protocol', TACTICS.command_and_control),
    T('T1071.001', 'Web Protocols', TACTICS.command_and_control),
    T('T1071.004', 'DNS', TACTICS.command_and_control),
    T('T1568', 'Dynamic Resolution', TACTICS.command_and_control),
    T('T1568.002', 'Domain Generation Algorithms', TACTICS.command_and_control),
    T('T1572', 'Protocol Tunneling', TACTICS.command_and_control),
    T('T1573', 'Encrypted Channel', TACTICS.command_and_control),
    T('T1095', 'Non-Application Layer Protocol', TACTICS.command_and_control),
    T('T1041', 'Exfiltration Over C2 Channel', TACTICS.exfiltration),
    T('T1048', 'Exfiltration Over Alternative Protocol', TACTICS.exfiltration),
    T('T1498', 'Network Denial of Service', TACTICS.impact),
    T('T1498.001', 'Direct Network Flood', TACTICS.impact),
    T('T1498.002', 'Reflection Amplification', TACTICS.impact),
    T('T1499', 'Endpoint Denial of Service', TACTICS.impact),
    T('T1499.001', 'OS Exhaustion Flood', TACTICS.impact),
    T('T1499.002', 'Service Exhaustion Flood', TACTICS.impact),
  ].map((t) => [t.id, t]),
);

/** A technique id split the way ECS wants it: the technique, and the sub-technique when the id has one. */
export interface AttackMapping {
  tactic?: AttackTactic;
  technique: { id: string; name?: string };
  subtechnique?: { id: string; name?: string };
}

/** ATT&CK mapping of a technique id (case-insensitive); undefined for an empty or malformed id */
export function attackMapping(id: string | undefined): AttackMapping | undefined {
  if (!id) return undefined;
  const m = /^(T\d{4})(\.\d{3})?$/i.exec(id.trim());
  if (!m) return undefined;
  const parentId = m[1]!.toUpperCase();
  const fullId = parentId + (m[2] ?? '');
  const parent = TECHNIQUES[parentId];
  const full = TECHNIQUES[fullId];
  const out: AttackMapping = { technique: parent ? { id: parentId, name: parent.name } : { id: parentId } };
  const tactic = (full ?? parent)?.tactic;
  if (tactic) out.tactic = tactic;
  if (m[2]) out.subtechnique = full ? { id: fullId, name: full.name } : { id: fullId };
  return out;
}
