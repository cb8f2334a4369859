import { describe, it, expect } from 'vitest';
import { SshBruteforce, SSH_BRUTEFORCE_DEFAULTS, type SshBruteforceConfig } from '../../../src/detect/ssh-bruteforce.js';
import type { SshAuthEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

let port = 40000;
function auth(ts: number, outcome: SshAuthEvent['auth'], src = '203.0.113.7', dst = '10.0.0.22', attempt = 1): SshAuthEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'ssh_auth', src, sport: port++, dst, dport: 22, proto: 'tcp',
    size: 2000, auth: outcome, attempt, client_banner: 'SSH-2.0-libssh_0.10.6', server_banner: 'SSH-2.0-OpenSSH_9.2p1',
  };
}

function run(cfg: Partial<SshBruteforceConfig> = {}) {
  const d = new SshBruteforce({ ...SSH_BRUTEFORCE_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert): void => { alerts.push(a); };
  return { d, alerts, emit, feed: (e: SshAuthEvent) => { d.advance(e.ts, emit); d.onEvent(e, emit); } };
}

describe('ssh_bruteforce', () => {
  it('stays silent at 19 failures and alerts once at the 20th', () => {
    const r = run();
    for (let i = 0; i < 19; i++) r.feed(auth(1000 + i, 'failure'));
    expect(r.alerts).toHaveLength(0);
    r.feed(auth(1019, 'failure'));
    expect(r.alerts).toHaveLength(1);
    const a = r.alerts[0]!;
    expect(a).toMatchObject({ kind: 'ssh_bruteforce', src: '203.0.113.7', dst: '10.0.0.22', dport: 22, technique: 'T1110.001', severity: 'high' });
    expect(a.evidence).toMatchObject({ failed_attempts: 20, threshold: 20, window_s: 1800 });
    for (let i = 0; i < 30; i++) r.feed(auth(1020 + i, 'failure'));
    expect(r.alerts).toHaveLength(1); // one attack, one alert while it goes on
  });

  it('judges a sliding window: 20 failures spanning exactly 1800 s alert, spanning 1900 s do not', () => {
    const within = run();
    for (let i = 0; i < 20; i++) within.feed(auth(1000 + (i * 1800) / 19, 'failure'));
    expect(within.alerts).toHaveLength(1);
    const spread = run();
    for (let i = 0; i < 20; i++) spread.feed(auth(1000 + i * 100, 'failure'));
    expect(spread.alerts).toHaveLength(0);
    // the window slides: the last 20 of 1100 … 2950 span 1850 s (silent), of 1200 … 2990 span 1790 s
    spread.feed(auth(2950, 'failure'));
    expect(spread.alerts).toHaveLength(0);
    spread.feed(auth(2990, 'failure'));
    expect(spread.alerts).toHaveLength(1);
    expect(spread.alerts[0]!.ts_first).toBe(1000); // the evidence span still starts at the first failure
  });

  it('counts connections that ended undecided (one guess per connection) as evidence, unless their weight is 0', () => {
    const r = run();
    for (let i = 0; i < 10; i++) r.feed(auth(1000 + i, 'failure'));
    for (let i = 0; i < 10; i++) r.feed(auth(1010 + i, 'unknown', undefined, undefined, 0));
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]!.evidence).toMatchObject({ failed_attempts: 10, undecided_connections: 10 });
    expect(r.alerts[0]!.confidence).toBeLessThan(0.9); // undecided connections are weaker evidence
    const off = run({ unknownWeight: 0 });
    for (let i = 0; i < 10; i++) off.feed(auth(1000 + i, 'failure'));
    for (let i = 0; i < 30; i++) off.feed(auth(1010 + i, 'unknown', undefined, undefined, 0));
    expect(off.alerts).toHaveLength(0);
  });

  it('ends the episode after 600 s of quiet with one update carrying the final counts', () => {
    const r = run();
    for (let i = 0; i < 40; i++) r.feed(auth(1000 + i, 'failure'));
    r.d.onEvent(auth(1041, 'success'), r.emit);
    r.d.advance(1039 + 600, r.emit);
    expect(r.alerts).toHaveLength(1);
    r.d.advance(1039 + 601, r.emit);
    expect(r.alerts).toHaveLength(2);
    const u = r.alerts[1]!;
    expect(u).toMatchObject({ kind: 'ssh_bruteforce', src: '203.0.113.7', dst: '10.0.0.22', update: true });
    expect(u.evidence).toMatchObject({ failed_attempts: 40, successes: 1, episode_end: true });
    expect(r.d.stats().sources).toBe(0);
    // a new burst later is a new episode
    for (let i = 0; i < 20; i++) r.feed(auth(5000 + i, 'failure'));
    expect(r.alerts).toHaveLength(3);
    expect(r.alerts[2]!.update).toBeUndefined();
  });

  it('reports a pending episode at end of input', () => {
    const r = run();
    for (let i = 0; i < 25; i++) r.feed(auth(1000 + i, 'failure'));
    r.d.flush(1030, r.emit);
    expect(r.alerts.map((a) => a.update ?? false)).toEqual([false, true]);
    expect(r.alerts[1]!.evidence).toMatchObject({ failed_attempts: 25 });
  });

  it('sums guesses over servers like Zeek and names no single victim when they are spread', () => {
    const r = run();
    for (let i = 0; i < 20; i++) r.feed(auth(1000 + i, 'failure', '203.0.113.7', `10.0.1.${i % 10}`));
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]!.dst).toBeUndefined();
    expect(r.alerts[0]!.evidence).toMatchObject({ servers: 10 });
  });

  it('never alerts on allow-listed sources', () => {
    const r = run({ allow: ['203.0.113.0/24'] });
    for (let i = 0; i < 50; i++) r.feed(auth(1000 + i, 'failure'));
    expect(r.alerts).toHaveLength(0);
  });

  it('stays silent for people who mistype their password now and then', () => {
    const r = run();
    let t = 1000;
    for (let day = 0; day < 48; day++) { // every 30 min, 2 typos then a login
      r.feed(auth(t, 'failure')); r.feed(auth(t + 3, 'failure')); r.feed(auth(t + 6, 'success'));
      t += 1800;
    }
    expect(r.alerts).toHaveLength(0);
  });

  it('keeps at most maxSources sources when a million distinct sources each fail once', () => {
    const r = run();
    for (let i = 0; i < 1_000_000; i++) {
      r.d.onEvent(auth(1000 + i / 1000, 'failure', `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`), r.emit);
    }
    const s = r.d.stats();
    expect(s.sources).toBeLessThanOrEqual(SSH_BRUTEFORCE_DEFAULTS.maxSources);
    expect(s.sources_evicted).toBe(1_000_000 - SSH_BRUTEFORCE_DEFAULTS.maxSources);
    expect(r.alerts).toHaveLength(0);
  }, 240_000);
});
