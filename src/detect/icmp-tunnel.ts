/**
 * icmp_tunnel — data carried inside ICMP echo requests and replies
 * (ptunnel, ptunnel-ng, icmpsh, hans, icmptunnel; MITRE T1095 Non-Application
 * Layer Protocol, T1048 exfiltration over an alternative protocol).
 *
 * What tells a tunnel from a ping is not the size (`ping -s 1400` is
 * legitimate) nor the bytes' entropy alone (iputils fills the data with
 * 0x00, 0x01, … 0xff: a 1000-byte ping already has 8 bits/byte), but that
 * the CONTENTS CHANGE: ping repeats one pattern after its 16-byte send
 * time, so every echo of a ping session has the same `payload_digest`
 * (see IcmpEvent); a tunnel's payloads are its stream's bytes, all
 * different. Per address pair (request and reply meet), over a sliding
 * window of `window` (60 s, two halves):
 *   - ≥ minPackets (20) echo messages,
 *   - ≥ minBytes (32 KiB) of echo data both ways (sustained volume: a
 *     ping's 56 bytes a second are 6.6 KiB a minute both ways),
 *   - ≥ minDistinct (50 %) of the messages with data have a digest not seen
 *     before in the window.
 * The alert names the client (the host sending the requests) as src and the
 * tunnel end as dst, with sizes, distinct sizes and mean entropy.
 * One alert per pair episode; the episode ends after `window` without an
 * echo, or at end of input, with a final `update: true` alert (totals).
 *
 * Anchors: ntopng's "ICMP data exfiltration" flow check compares the echo
 * payloads of a flow (it flags an ICMP flow whose payloads differ / are
 * large); Suricata ET rules match tool signatures (ptunnel's 0xD5200880
 * magic, "ICMP tunnel" contents) — tools with another magic or encryption
 * pass; Zeek ships no ICMP-tunnel script (its icmp_echo_request event
 * gives the payload to scripts). Thresholds here: a minute of 32 KiB is
 * five times a default ping's volume, and distinct contents exclude every
 * ping however large or fast (flood pings repeat their pattern too).
 *
 * Bounded state: at most maxPairs pairs (LRU, evictions counted, an
 * alerted one gets its final alert); per pair a set of ≤ 1024 digests per
 * half-window (beyond that further digests count as new, which only helps
 * a message stream that is already mostly distinct).
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, IcmpEvent, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { LruMap } from './sketch.js';
import { mergeSettings } from './bounded-state.js';
import { fmtDur, round2 } from './format.js';

export interface IcmpTunnelConfig {
  window: number;
  minPackets: number;
  minBytes: number;
  /** share of data-carrying echoes whose contents were new in the window */
  minDistinct: number;
  maxPairs: number;
  /** hosts (either end) never judged (CIDR list) */
  allow: string[];
}

export const ICMP_TUNNEL_DEFAULTS: IcmpTunnelConfig = {
  window: 60, minPackets: 20, minBytes: 32 * 1024, minDistinct: 0.5, maxPairs: 10_000, allow: [],
};

export const icmpTunnelSpec: DetectorSpec<IcmpTunnelConfig> = {
  name: 'icmp_tunnel', defaults: ICMP_TUNNEL_DEFAULTS, create: (c, ctx) => new IcmpTunnel(c, ctx),
};

const MAX_DIGESTS = 1024;

/** one half of the sliding window */
interface Half {
  start: number;
  packets: number; bytes: number; withData: number; fresh: number;
  digests: Set<number>;
}

interface Pair {
  client: string; server: string;
  halves: [Half, Half];
  first: number; last: number;
  requests: number; replies: number; reqBytes: number; repBytes: number;
  sizes: Set<number>; entropySum: number; entropyN: number; maxLen: number;
  alerted: boolean;
}

/** The echo messages of a window, judged (pure; the unit tests use it). */
export function judgeEcho(packets: number, bytes: number, withData: number, fresh: number, c: IcmpTunnelConfig): boolean {
  return packets >= c.minPackets && bytes >= c.minBytes && withData > 0 && fresh / withData >= c.minDistinct;
}

function isEcho(e: IcmpEvent): 'req' | 'rep' | null {
  if (e.proto === 'icmpv6') return e.icmp_type === 128 ? 'req' : e.icmp_type === 129 ? 'rep' : null;
  return e.icmp_type === 8 ? 'req' : e.icmp_type === 0 ? 'rep' : null;
}

function newHalf(start: number): Half {
  return { start, packets: 0, bytes: 0, withData: 0, fresh: 0, digests: new Set() };
}

export class IcmpTunnel implements Detector {
  readonly name = 'icmp_tunnel';
  readonly consumes: readonly EventType[] = ['icmp'];
  readonly keyBy = 'pair' as const;
  private readonly pairs: LruMap<string, Pair>;
  private allow: CidrSet;
  private emitRef: Emit | null = null;
  alerts = 0;
  echoes = 0;

  constructor(public cfg: IcmpTunnelConfig = ICMP_TUNNEL_DEFAULTS, _ctx?: DetectorContext) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.icmp_tunnel.allow');
    this.pairs = new LruMap(cfg.maxPairs, (_k, p) => this.retire(p, this.emitRef, p.last));
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'icmp' || e.payload_len === undefined) return;
    const dir = isEcho(e);
    if (dir === null) return;
    if (!this.allow.empty && (this.allow.has(e.src) || this.allow.has(e.dst))) return;
    this.emitRef = emit;
    this.echoes++;
    const key = e.src < e.dst ? `${e.src}|${e.dst}` : `${e.dst}|${e.src}`;
    let p = this.pairs.get(key);
    if (p !== undefined && e.ts - p.last > this.cfg.window) { this.pairs.delete(key); this.retire(p, emit, e.ts); p = undefined; }
    if (p === undefined) {
      const client = dir === 'req' ? e.src : e.dst, server = dir === 'req' ? e.dst : e.src;
      p = {
        client, server, halves: [newHalf(e.ts), newHalf(e.ts)], first: e.ts, last: e.ts,
        requests: 0, replies: 0, reqBytes: 0, repBytes: 0, sizes: new Set(), entropySum: 0, entropyN: 0, maxLen: 0, alerted: false,
      };
      this.pairs.set(key, p);
    } else this.pairs.touch(key, p);
    if (e.ts > p.last) p.last = e.ts;
    // slide: the current half (halves[1]) spans window/2; then it becomes the previous one
    const half = this.cfg.window / 2;
    if (e.ts - p.halves[1].start >= half) {
      p.halves = e.ts - p.halves[1].start >= 2 * half ? [newHalf(e.ts), newHalf(e.ts)] : [p.halves[1], newHalf(e.ts)];
    }
    const cur = p.halves[1], prev = p.halves[0];
    const len = e.payload_len;
    const toClient = e.dst === p.client;
    if (toClient) { p.replies++; p.repBytes += len; } else { p.requests++; p.reqBytes += len; }
    if (p.sizes.size < 64) p.sizes.add(len);
    if (len > p.maxLen) p.maxLen = len;
    if (e.payload_entropy !== undefined) { p.entropySum += e.payload_entropy; p.entropyN++; }
    cur.packets++;
    cur.bytes += len;
    // contents are told apart past ping's 16-byte timestamp
    if (e.payload_digest !== undefined && len > 16) {
      cur.withData++;
      const d = e.payload_digest;
      if (!cur.digests.has(d) && !prev.digests.has(d)) {
        cur.fresh++;
        if (cur.digests.size < MAX_DIGESTS) cur.digests.add(d);
      }
    }
    if (p.alerted) return;
    const packets = cur.packets + prev.packets, bytes = cur.bytes + prev.bytes;
    const withData = cur.withData + prev.withData, fresh = cur.fresh + prev.fresh;
    if (!judgeEcho(packets, bytes, withData, fresh, this.cfg)) return;
    p.alerted = true;
    this.alerts++;
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: fresh / withData >= 0.9 ? 0.85 : 0.7,
      src: p.client, dst: p.server, ts: e.ts, ts_first: p.first, ts_last: p.last, technique: 'T1095', proto: p.client.includes(':') ? 'icmpv6' : 'icmp',
      summary: `${p.client} is tunnelling data through ICMP echo with ${p.server}: ${packets} echoes, ${Math.round(bytes / 1024)} KiB of payload in ${fmtDur(e.ts - Math.min(prev.start, cur.start))}, ${Math.round((100 * fresh) / withData)}% with new contents (a ping repeats its pattern)`,
      evidence: { ...this.evidence(p), window_packets: packets, window_bytes: bytes, distinct_share: round2(fresh / withData) },
    }));
  }

  private evidence(p: Pair): Record<string, unknown> {
    const c = this.cfg;
    const total = p.requests + p.replies;
    return {
      client: p.client, server: p.server, requests: p.requests, replies: p.replies,
      request_bytes: p.reqBytes, reply_bytes: p.repBytes, mean_payload: total ? Math.round((p.reqBytes + p.repBytes) / total) : 0,
      max_payload: p.maxLen, distinct_sizes: p.sizes.size, distinct_sizes_capped: p.sizes.size >= 64,
      mean_entropy: p.entropyN ? round2(p.entropySum / p.entropyN) : null,
      duration_s: round2(p.last - p.first),
      thresholds: { window_s: c.window, min_packets: c.minPackets, min_bytes: c.minBytes, min_distinct: c.minDistinct },
    };
  }

  private retire(p: Pair, emit: Emit | null, now: number): void {
    if (!p.alerted || emit === null) return;
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: 0.8, src: p.client, dst: p.server,
        ts: Math.max(now, p.last), ts_first: p.first, ts_last: p.last, technique: 'T1095', proto: p.client.includes(':') ? 'icmpv6' : 'icmp',
        summary: `ICMP tunnel ${p.client} ↔ ${p.server} ended: ${p.requests} requests, ${p.replies} replies, ${Math.round((p.reqBytes + p.repBytes) / 1024)} KiB of payload in ${fmtDur(p.last - p.first)}`,
        evidence: { ...this.evidence(p), final: true },
      }),
      update: true,
    });
  }

  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    this.allow = CidrSet.parse(c.allow, 'detectors.icmp_tunnel.allow');
    this.cfg = c;
    this.pairs.cap = c.maxPairs;
    return true;
  }

  advance(now: number, emit: Emit): void {
    const limit = now - this.cfg.window;
    for (const [k, p] of this.pairs.entries()) {
      if (p.last >= limit) break;
      this.pairs.delete(k);
      this.retire(p, emit, now);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const p of this.pairs.values()) this.retire(p, emit, now);
    this.pairs.clear();
  }

  stats(): Record<string, number> {
    return { pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, echoes: this.echoes, alerts: this.alerts };
  }
}
