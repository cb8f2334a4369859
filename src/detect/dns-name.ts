/**
 * DNS name helpers shared by dns_tunnel and dns_nxdomain_burst: the
 * registered domain of a name, suffix allow-lists, and the names neither
 * judges (reverse look-ups, mDNS/LLMNR, the root).
 */
import type { DnsEvent } from '../events/types.js';

/** second-level labels that act as public suffixes under two-letter country codes */
const SHORT_SLD = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'gob', 'mil', 'ltd', 'plc', 'sch', 'nic', 'gv', 'biz', 'info', 'nom', 'lg', 'ad', 'ed', 'gr']);

/**
 * Registered domain (≈ eTLD+1) and subdomain of a name: the last two labels,
 * or three when the second-level is a common public-suffix part under a
 * two-letter TLD (co.uk, com.au). Lower-cased, trailing dot dropped.
 */
export function splitName(qname: string): { domain: string; sub: string } {
  let n = qname.toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  const labels = n.split('.');
  let k = 2;
  if (labels.length >= 3) {
    const tld = labels[labels.length - 1]!, sld = labels[labels.length - 2]!;
    if (tld.length === 2 && SHORT_SLD.has(sld)) k = 3;
  }
  if (labels.length <= k) return { domain: n, sub: '' };
  return { domain: labels.slice(-k).join('.'), sub: labels.slice(0, -k).join('.') };
}

/** Names no tunnel detector should judge: reverse look-ups, mDNS/LLMNR, the root. */
export function notJudged(e: DnsEvent): boolean {
  if (e.dport === 5353 || e.sport === 5353 || e.dport === 5355 || e.sport === 5355) return true;
  const q = e.qname.toLowerCase();
  return q === '' || q === '.' || q.endsWith('.arpa') || q.endsWith('.arpa.') || q.endsWith('.local') || q.endsWith('.local.');
}

/** does `name` equal or end with ".suffix" for one of the suffixes */
export function matchesSuffix(name: string, suffixes: readonly string[]): boolean {
  for (const s of suffixes) if (name === s || name.endsWith('.' + s)) return true;
  return false;
}
