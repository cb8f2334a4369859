/**
 * Which events a host *initiates* (asks for) and which are answers it gives.
 * Rate rules count the former only: a victim answering a scan, a flood or a
 * web scan sends as many packets as the attacker, and must not be blamed.
 */
import type { NetEvent } from './types.js';

/** ICMPv4 requests: echo, timestamp, information, address mask, router solicitation. */
const ICMP4_REQUESTS = new Set([8, 10, 13, 15, 17]);
/** ICMPv6 requests: echo, router/neighbour solicitation, MLD query. */
const ICMP6_REQUESTS = new Set([128, 130, 133, 135]);

/** true when the event is its sender asking for something (a connection, a query, a request, a login). */
export function isInitiation(e: NetEvent): boolean {
  switch (e.type) {
    case 'tcp_syn': case 'http_request': case 'ssh_auth': case 'tls_client_hello': return true;
    case 'dns': return !e.is_response;
    case 'icmp': return e.proto === 'icmp' ? ICMP4_REQUESTS.has(e.icmp_type) : ICMP6_REQUESTS.has(e.icmp_type);
    case 'ssh_banner': return e.role === 'client';
    default: return false;
  }
}
