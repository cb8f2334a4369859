/**
 * ssh_bruteforce — repeated failed SSH authentications from one source
 * (password guessing, T1110.001).
 *
 * Evidence comes from the inferred `ssh_auth` events (outcome read from the
 * encrypted packets' sizes, as Zeek does):
 *   - `auth: 'failure'` — one failed attempt, weight 1;
 *   - `auth: 'unknown'` — a connection that got through key exchange and
 *     ended with no success and no counted failure, weight `unknownWeight`.
 *     Zeek's inference spends the first failure-sized packet of every
 *     connection on learning the failure size, so a guesser that makes one
 *     attempt per connection (hydra's SSH module against servers that close
 *     early, ncrack, many bots) shows no counted failure at all: these
 *     connections are the only trace it leaves.
 * A success on one of the guesser's connections is counted in the evidence;
 * `ssh_login_after_bruteforce` raises the critical alert for it.
 *
 * Counting is per source summed over servers, like Zeek's
 * SSH::Password_Guessing, so spraying one guess at each of many servers is
 * caught too. The window is exactly sliding: the last `threshold` evidence
 * times are kept per source, and the alert fires when they span no more than
 * `window` seconds. One alert per source episode (dst = the server that took
 * most of the guesses when it took at least half, else none); the source
 * keeps being counted, and when it has been quiet for `idle` seconds (or at
 * end of input) a final `update: true` alert carries the totals.
 *
 * Defaults: 20 failures within 1800 s, unknown connections weight 1, episode
 * ends after 600 s of quiet, ≤ 50,000 sources tracked (least recently active
 * evicted, counted). Anchor: Zeek `SSH::password_guesses_limit` = 30 within
 * `SSH::guessing_timeout` = 30 min (policy/protocols/ssh/detect-bruteforcing).
 * Our threshold is lower than Zeek's because the size inference spends the
 * first failure of every connection on learning the failure size (harmless
 * when that one is the client's "none" probe, a lost guess otherwise): on
 * the project's captures hydra (libssh, -t 4, OpenSSH MaxAuthTries 6) shows
 * 40 guesses as 40 failures + 1 undecided connection, and 35 wrong + 1 right
 * as 36 items; Zeek's own test capture zeek__ssh__sshguess.pcap (11
 * connections of 3–5 guesses) shows 28 failures — Zeek's 30 misses it, 20
 * catches all three with margin for guessers that use fewer tries per
 * connection. A person mistyping a password makes 1–6 failures (OpenSSH
 * MaxAuthTries 6); benign-ssh and ssh-login stay silent.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent, SshAuthEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { LruMap, mergeSettings, resizeRing } from './bounded-state.js';
import { CidrSet } from '../util/cidr.js';
import type { DetectorSpec } from './spec.js';

export interface SshBruteforceConfig {
  /** weighted failures within `window` that raise the alert */
  threshold: number;
  /** seconds */
  window: number;
  /** weight of a connection that ended with no inferred outcome (0 = ignore them) */
  unknownWeight: number;
  /** seconds without new evidence that end an alerted episode */
  idle: number;
  /** sources tracked at once */
  maxSources: number;
  /** sources never alerted (vulnerability scanners, jump hosts) */
  allow: string[];
}

export const SSH_BRUTEFORCE_DEFAULTS: SshBruteforceConfig = {
  threshold: 20, window: 1800, unknownWeight: 1, idle: 600, maxSources: 50_000, allow: [],
};

export const sshBruteforceSpec: DetectorSpec<SshBruteforceConfig> = {
  name: 'ssh_bruteforce', defaults: SSH_BRUTEFORCE_DEFAULTS, create: (c) => new SshBruteforce(c),
};

const MAX_SERVERS = 16;

interface Guesser {
  /** times of the last `threshold` evidence items (ring) */
  times: Float64Array;
  n: number;
  failures: number;
  unknown: number;
  successes: number;
  /** failures + unknown per server (≤ MAX_SERVERS kept, the rest counted in otherServers) */
  servers: Map<string, number>;
  otherServers: number;
  dport: number;
  first: number;
  last: number;
  /** packet time of the latest evidence arrival (for idle expiry) */
  seen: number;
  alerted: boolean;
  alertDst: string | undefined;
  alertTs: number;
  banner: string | null;
}

export class SshBruteforce implements Detector {
  readonly name = 'ssh_bruteforce';
  readonly consumes: readonly EventType[] = ['ssh_auth'];
  readonly keyBy = 'src' as const;
  private readonly src: LruMap<string, Guesser>;
  private allow: CidrSet;
  private need: number;
  alerts = 0;

  constructor(public cfg: SshBruteforceConfig = SSH_BRUTEFORCE_DEFAULTS) {
    this.src = new LruMap(cfg.maxSources);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.ssh_bruteforce.allow');
    this.need = Math.max(1, Math.ceil(cfg.threshold));
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'ssh_auth') return;
    if (e.auth === 'success') { const g = this.src.get(e.src); if (g) g.successes++; return; }
    const w = e.auth === 'failure' ? 1 : this.cfg.unknownWeight;
    if (w <= 0 || this.allow.has(e.src)) return;
    let g = this.src.get(e.src);
    if (g === undefined) {
      g = {
        times: new Float64Array(this.need), n: 0, failures: 0, unknown: 0, successes: 0, servers: new Map(),
        otherServers: 0, dport: e.dport, first: e.ts, last: e.ts, seen: e.ts, alerted: false, alertDst: undefined, alertTs: 0,
        banner: e.client_banner,
      };
    }
    this.src.set(e.src, g); // most recently active last
    if (e.auth === 'failure') g.failures++; else g.unknown++;
    if (e.ts < g.first) g.first = e.ts;
    if (e.ts > g.last) g.last = e.ts;
    if (e.ts > g.seen) g.seen = e.ts;
    const c = g.servers.get(e.dst);
    if (c !== undefined) g.servers.set(e.dst, c + 1);
    else if (g.servers.size < MAX_SERVERS) g.servers.set(e.dst, 1);
    else g.otherServers++;
    // weights are whole numbers in practice; a fractional weight counts as its ceiling of ring slots
    for (let k = 0; k < Math.ceil(w); k++) { g.times[g.n % this.need] = e.ts; g.n++; }
    if (!g.alerted && g.n >= this.need) {
      let lo = Infinity, hi = -Infinity;
      for (const t of g.times) { if (t < lo) lo = t; if (t > hi) hi = t; }
      if (hi - lo <= this.cfg.window) this.raise(e, g, lo, emit);
    }
  }

  private top(g: Guesser): [string, number] | undefined {
    let best: [string, number] | undefined;
    for (const kv of g.servers) if (best === undefined || kv[1] > best[1]) best = kv;
    return best;
  }

  private evidence(g: Guesser): Record<string, unknown> {
    const servers = [...g.servers].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([s, n]) => `${s} (${n})`);
    return {
      failed_attempts: g.failures, undecided_connections: g.unknown, unknown_weight: this.cfg.unknownWeight,
      successes: g.successes, servers: g.servers.size + g.otherServers, sample_servers: servers,
      threshold: this.cfg.threshold, window_s: this.cfg.window, client_banner: g.banner,
      anchor: 'Zeek SSH::Password_Guessing: 30 failures in 30 min',
    };
  }

  private raise(e: SshAuthEvent, g: Guesser, windowStart: number, emit: Emit): void {
    g.alerted = true;
    g.alertTs = e.ts;
    const top = this.top(g);
    const total = g.failures + g.unknown;
    g.alertDst = top && top[1] * 2 >= total ? top[0] : undefined;
    this.alerts++;
    const where = g.alertDst ?? `${g.servers.size + g.otherServers} servers`;
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: this.confidence(g), src: e.src, dst: g.alertDst, dport: g.dport,
      ts: e.ts, ts_first: g.first, ts_last: g.last, technique: 'T1110.001', proto: 'tcp',
      summary: `${e.src} failed ${total} SSH authentications against ${where} within ${Math.round(g.last - windowStart)} s (password guessing)`,
      evidence: this.evidence(g),
    }));
  }

  /** counted failures are stronger evidence than undecided connections */
  private confidence(g: Guesser): number {
    const total = g.failures + g.unknown;
    return 0.6 + 0.3 * (total ? g.failures / total : 0);
  }

  private finish(k: string, g: Guesser, now: number, emit: Emit): void {
    const total = g.failures + g.unknown;
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: this.confidence(g), src: k, dst: g.alertDst, dport: g.dport,
        ts: now, ts_first: g.first, ts_last: g.last, technique: 'T1110.001', proto: 'tcp',
        summary: `${k} SSH password guessing ended: ${total} failed authentications against ${g.alertDst ?? `${g.servers.size + g.otherServers} servers`}, ${g.successes} successful`,
        evidence: { ...this.evidence(g), episode_end: true },
      }),
      update: true,
    });
  }

  /**
   * SIGHUP: every setting applies in place; each source keeps its counts and
   * episode. A new threshold resizes each source's ring of evidence times,
   * keeping the latest ones (so 15 failures so far and a threshold lowered to
   * 16 alert at the next failure).
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.ssh_bruteforce.allow');
    const need = Math.max(1, Math.ceil(c.threshold));
    this.cfg = c;
    this.allow = allow;
    this.src.cap = c.maxSources;
    if (need !== this.need) {
      for (const g of this.src.values()) { g.times = resizeRing(g.times, g.n, need); g.n = Math.min(g.n, need); }
      this.need = need;
    }
    return true;
  }

  advance(now: number, emit: Emit): void {
    const soonest = Math.min(this.cfg.idle, this.cfg.window);
    for (const [k, g] of this.src.entries()) {
      const age = now - g.seen;
      if (age <= soonest) break; // least recently active first: the rest are younger
      if (age <= (g.alerted ? this.cfg.idle : this.cfg.window)) continue;
      this.src.delete(k);
      if (g.alerted) this.finish(k, g, now, emit);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const [k, g] of this.src.entries()) if (g.alerted) this.finish(k, g, now, emit);
    this.src.clear();
  }

  stats(): Record<string, number> {
    return { sources: this.src.size, sources_evicted: this.src.evicted, alerts: this.alerts };
  }
}
