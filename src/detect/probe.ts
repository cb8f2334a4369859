/**
 * Probe classification shared by port_scan and host_sweep: which events are
 * failed or probe-like connection attempts (the unit both count), and the
 * direction of a probe relative to HOME_NET.
 */
import type { NetEvent, Transport } from '../events/types.js';
import type { CidrSet } from '../util/cidr.js';

export type ProbeKind = 'rejected' | 'unanswered' | 'half_open' | 'reset_no_data' | 'stealth' | 'udp_no_reply' | 'icmp_unreachable';
export const PROBE_KINDS: readonly ProbeKind[] = ['rejected', 'unanswered', 'half_open', 'reset_no_data', 'stealth', 'udp_no_reply', 'icmp_unreachable'];

export interface Probe { src: string; dst: string; dport: number; proto: Transport; kind: ProbeKind; ts: number }

const TRACEROUTE_LO = 33434, TRACEROUTE_HI = 33534;

function isGroupAddr(a: string): boolean {
  if (a.includes(':')) return a.startsWith('ff') || a.startsWith('FF');
  if (a === '255.255.255.255' || a.endsWith('.255')) return true;
  const first = parseInt(a, 10);
  return first >= 224 && first <= 239;
}

/** A UDP probe as a scanner sends it (not a late reply, not group traffic, not traceroute). */
function udpProbeLike(sport: number, dst: string, dport: number, ignoreTraceroute: boolean): boolean {
  if (sport > 0 && sport < 1024 && dport >= 1024) return false;
  if (ignoreTraceroute && dport >= TRACEROUTE_LO && dport <= TRACEROUTE_HI) return false;
  return !isGroupAddr(dst);
}

function hasAny(h: string, letters: string): boolean {
  for (let i = 0; i < letters.length; i++) if (h.includes(letters[i]!)) return true;
  return false;
}

function fill(out: Probe | undefined, src: string, dst: string, dport: number, proto: Transport, kind: ProbeKind, ts: number): Probe {
  if (out === undefined) return { src, dst, dport, proto, kind, ts };
  out.src = src; out.dst = dst; out.dport = dport; out.proto = proto; out.kind = kind; out.ts = ts;
  return out;
}

/**
 * The failed or probe-like connection attempt an event reports, or null.
 * Successful connections, data-carrying flows, backscatter (SYN-ACKs without
 * a SYN) and mid-stream pickups are never probes. `out`: a scratch Probe to
 * fill instead of allocating one (the detectors' hot path: every evicted
 * flow of a flood is a probe).
 */
export function classifyProbe(e: NetEvent, udp = true, ignoreTraceroute = true, out?: Probe): Probe | null {
  switch (e.type) {
    case 'conn_rejected':
      return fill(out, e.src, e.dst, e.dport, 'tcp', 'rejected', e.ts);
    case 'conn': {
      if (e.proto === 'udp') {
        if (!udp || e.conn_state !== 'S0' || e.orig_pkts > 4 || e.orig_bytes > 1024) return null;
        if (!udpProbeLike(e.sport, e.dst, e.dport, ignoreTraceroute)) return null;
        return fill(out, e.src, e.dst, e.dport, 'udp', 'udp_no_reply', e.ts);
      }
      const h = e.history;
      let kind: ProbeKind | null = null;
      switch (e.conn_state) {
        // REJ: already counted when it happened (the flow table emits conn_rejected for every REJ)
        case 'REJ': return null;
        case 'S0': if (h === 'S') kind = 'unanswered'; break;
        case 'RSTOS0': case 'SH': if (!hasAny(h, 'Dd')) kind = 'half_open'; break;
        case 'RSTO': case 'RSTR':
          if (e.orig_bytes === 0 && e.resp_bytes === 0 && h.includes('S') && h.includes('h') && !hasAny(h, 'Dd')) kind = 'reset_no_data';
          break;
        case 'OTH':
          if (!hasAny(h, 'ShDdfR') && e.orig_pkts <= 3 && e.orig_bytes === 0 && (e.resp_pkts === 0 || h.includes('r'))) kind = 'stealth';
          break;
        default: break;
      }
      return kind === null ? null : fill(out, e.src, e.dst, e.dport, 'tcp', kind, e.ts);
    }
    case 'icmp': {
      const q = e.quoted;
      // an error goes back to the prober: one addressed elsewhere is forged or replayed, not evidence
      if (!q || (q.proto !== 'tcp' && q.proto !== 'udp') || q.src !== e.dst) return null;
      const v6 = e.proto === 'icmpv6';
      const unreach = v6 ? e.icmp_type === 1 && (e.icmp_code === 1 || e.icmp_code === 3 || e.icmp_code === 4)
        : e.icmp_type === 3 && (e.icmp_code === 1 || e.icmp_code === 3 || e.icmp_code === 9 || e.icmp_code === 10 || e.icmp_code === 13);
      if (!unreach) return null;
      if (q.proto === 'udp' && (!udp || !udpProbeLike(q.sport, q.dst, q.dport, ignoreTraceroute))) return null;
      return fill(out, q.src, q.dst, q.dport, q.proto, 'icmp_unreachable', e.ts);
    }
    default:
      return null;
  }
}

/** inbound / outbound / internal / external, from HOME_NET */
export function direction(homeNet: CidrSet, src: string, dst: string): string {
  if (homeNet.empty) return 'unknown';
  const s = homeNet.has(src), d = homeNet.has(dst);
  return s ? (d ? 'internal' : 'outbound') : (d ? 'inbound' : 'external');
}
