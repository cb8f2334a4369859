/**
 * ssh_login_after_bruteforce — a successful SSH authentication from a source
 * that was guessing passwords against the same server: the guess worked.
 * Severity critical; T1110 (Brute Force), and the account is now a Valid
 * Account (T1078) in the attacker's hands.
 *
 * Zeek declares SSH::Login_By_Password_Guesser but never implemented it
 * ("not currently implemented", policy/protocols/ssh/detect-bruteforcing.zeek).
 *
 * Per (client, server) pair the times of failed attempts are kept (the same
 * evidence as ssh_bruteforce: `ssh_auth` failure = 1, undecided connection =
 * `unknownWeight`). When an `ssh_auth` success arrives, the failures in
 * [success − window, success + grace] are counted; at `minFailures` or more
 * the alert fires. Failures that arrive after the success still count when
 * their time is inside the grace period: a parallel guesser's other
 * connections report their failures after the winning one, and an undecided
 * connection is reported when it closes (with its start time). A success
 * below the bar stays pending for `window` seconds so such late evidence can
 * still complete it. One alert per pair episode; later successes are
 * counted, and after `idle` seconds of quiet (or at end of input) a final
 * `update: true` alert carries the totals.
 *
 * Defaults: ≥ 10 failures against that server within 1800 s before the
 * success (half of ssh_bruteforce's 20: "crossed or nearly crossed"), grace
 * 30 s, episode ends after 600 s of quiet, ≤ 50,000 pairs (evictions
 * counted). A user who mistypes a password a few times stays below 10
 * (OpenSSH allows 6 tries per connection). No anchor default exists.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent, SshAuthEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { LruMap, mergeSettings } from './bounded-state.js';
import { CidrSet } from '../util/cidr.js';
import type { DetectorSpec } from './spec.js';

export interface SshLoginAfterBruteforceConfig {
  /** failures against the same server before the success that make it a guessed login */
  minFailures: number;
  /** seconds before the success in which failures count */
  window: number;
  /** seconds after the success in which failures still count (parallel guessers) */
  grace: number;
  /** weight of a connection that ended with no inferred outcome */
  unknownWeight: number;
  /** seconds of quiet that end an alerted episode */
  idle: number;
  /** (client, server) pairs tracked at once */
  maxPairs: number;
  /** clients never alerted */
  allow: string[];
}

export const SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS: SshLoginAfterBruteforceConfig = {
  minFailures: 10, window: 1800, grace: 30, unknownWeight: 1, idle: 600, maxPairs: 50_000, allow: [],
};

export const sshLoginAfterBruteforceSpec: DetectorSpec<SshLoginAfterBruteforceConfig> = {
  name: 'ssh_login_after_bruteforce', defaults: SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS,
  create: (c) => new SshLoginAfterBruteforce(c),
};

/** failure times kept per pair: enough to judge the bar, bounded */
const MAX_TIMES = 256;

interface Pair {
  client: string;
  server: string;
  dport: number;
  /** failure times (weighted: one entry per unit), oldest dropped past MAX_TIMES */
  times: number[];
  failures: number;
  unknown: number;
  /** first success not yet judged, or NaN */
  pending: number;
  pendingUser: SshAuthEvent | null;
  successes: number;
  first: number;
  last: number;
  seen: number;
  alerted: boolean;
  alertTs: number;
  successTs: number;
}

export class SshLoginAfterBruteforce implements Detector {
  readonly name = 'ssh_login_after_bruteforce';
  readonly consumes: readonly EventType[] = ['ssh_auth'];
  readonly keyBy = 'pair' as const;
  private readonly pairs: LruMap<string, Pair>;
  private allow: CidrSet;
  alerts = 0;

  constructor(public cfg: SshLoginAfterBruteforceConfig = SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS) {
    this.pairs = new LruMap(cfg.maxPairs);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.ssh_login_after_bruteforce.allow');
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'ssh_auth' || this.allow.has(e.src)) return;
    const key = `${e.src}|${e.dst}`;
    let p = this.pairs.get(key);
    if (e.auth === 'success') {
      if (p === undefined) return; // no guessing seen: an ordinary login
      this.pairs.set(key, p);
      p.successes++;
      if (e.ts > p.seen) p.seen = e.ts;
      if (p.alerted) { if (e.ts > p.last) p.last = e.ts; return; }
      // a newer success replaces one that did not meet the bar: its window covers the older one's
      p.pending = e.ts;
      p.pendingUser = e;
      this.judge(p, e.ts, emit);
      return;
    }
    const w = e.auth === 'failure' ? 1 : this.cfg.unknownWeight;
    if (w <= 0) return;
    if (p === undefined) {
      p = {
        client: e.src, server: e.dst, dport: e.dport, times: [], failures: 0, unknown: 0, pending: NaN, pendingUser: null,
        successes: 0, first: e.ts, last: e.ts, seen: e.ts, alerted: false, alertTs: 0, successTs: 0,
      };
    }
    this.pairs.set(key, p);
    if (e.auth === 'failure') p.failures++; else p.unknown++;
    if (e.ts < p.first) p.first = e.ts;
    if (e.ts > p.last) p.last = e.ts;
    if (e.ts > p.seen) p.seen = e.ts;
    for (let k = 0; k < Math.ceil(w); k++) p.times.push(e.ts);
    if (p.times.length > MAX_TIMES) p.times.splice(0, p.times.length - MAX_TIMES);
    if (!p.alerted && !Number.isNaN(p.pending)) this.judge(p, e.ts, emit);
  }

  /**
   * SIGHUP: every setting applies in place; each pair keeps its failure times,
   * pending success and episode (a lowered minFailures judges a pending
   * success at the pair's next event).
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.ssh_login_after_bruteforce.allow');
    this.cfg = c;
    this.allow = allow;
    this.pairs.cap = c.maxPairs;
    return true;
  }

  /** failures inside [success − window, success + grace] */
  private countFor(p: Pair, s: number): number {
    let n = 0;
    for (const t of p.times) if (t >= s - this.cfg.window && t <= s + this.cfg.grace) n++;
    return n;
  }

  private judge(p: Pair, now: number, emit: Emit): void {
    const s = p.pending;
    const n = this.countFor(p, s);
    if (n < this.cfg.minFailures) return;
    p.alerted = true;
    p.alertTs = now;
    p.successTs = s;
    this.alerts++;
    emit(makeAlert({
      kind: this.name, severity: 'critical', confidence: Math.min(0.95, 0.7 + 0.01 * n), src: p.client, dst: p.server,
      dport: p.dport, ts: Math.max(now, s), ts_first: p.first, ts_last: Math.max(p.last, s), technique: 'T1110', proto: 'tcp',
      ...(p.pendingUser ? { flow: p.pendingUser } : {}),
      summary: `${p.client} logged in to ${p.server} over SSH after ${n} failed attempts (password guessing succeeded)`,
      evidence: this.evidence(p, n),
    }));
  }

  private evidence(p: Pair, n: number): Record<string, unknown> {
    const u = p.pendingUser;
    return {
      success_ts: p.pending, failures_before_success: n, failed_attempts: p.failures, undecided_connections: p.unknown,
      successes: p.successes, min_failures: this.cfg.minFailures, window_s: this.cfg.window, grace_s: this.cfg.grace,
      client_banner: u?.client_banner ?? null, server_banner: u?.server_banner ?? null,
      note: 'Valid Accounts (T1078): the guessed credentials now work; Zeek declares Login_By_Password_Guesser but does not implement it',
    };
  }

  private finish(p: Pair, now: number, emit: Emit): void {
    const n = this.countFor(p, p.pending);
    emit({
      ...makeAlert({
        kind: this.name, severity: 'critical', confidence: Math.min(0.95, 0.7 + 0.01 * n), src: p.client, dst: p.server,
        dport: p.dport, ts: now, ts_first: p.first, ts_last: p.last, technique: 'T1110', proto: 'tcp',
        summary: `${p.client} SSH guessing against ${p.server} ended: ${p.failures + p.unknown} failed, ${p.successes} successful logins`,
        evidence: { ...this.evidence(p, n), episode_end: true },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void {
    const soonest = Math.min(this.cfg.idle, this.cfg.window);
    for (const [k, p] of this.pairs.entries()) {
      const age = now - p.seen;
      if (age <= soonest) break; // least recently active first
      if (age <= (p.alerted ? this.cfg.idle : this.cfg.window)) continue;
      this.pairs.delete(k);
      if (p.alerted) this.finish(p, now, emit);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const p of this.pairs.values()) if (p.alerted) this.finish(p, now, emit);
    this.pairs.clear();
  }

  stats(): Record<string, number> {
    return { pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, alerts: this.alerts };
  }
}
