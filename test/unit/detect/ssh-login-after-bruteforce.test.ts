import { describe, it, expect } from 'vitest';
import {
  SshLoginAfterBruteforce, SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS, type SshLoginAfterBruteforceConfig,
} from '../../../src/detect/ssh-login-after-bruteforce.js';
import type { SshAuthEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

let port = 40000;
function auth(ts: number, outcome: SshAuthEvent['auth'], src = '203.0.113.7', dst = '10.0.0.22'): SshAuthEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'ssh_auth', src, sport: port++, dst, dport: 22, proto: 'tcp',
    size: 2000, auth: outcome, attempt: 1, client_banner: 'SSH-2.0-libssh_0.10.6', server_banner: 'SSH-2.0-OpenSSH_9.2p1',
  };
}

function run(cfg: Partial<SshLoginAfterBruteforceConfig> = {}) {
  const d = new SshLoginAfterBruteforce({ ...SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert): void => { alerts.push(a); };
  return { d, alerts, emit, feed: (e: SshAuthEvent) => { d.advance(e.ts, emit); d.onEvent(e, emit); } };
}

describe('ssh_login_after_bruteforce', () => {
  it('raises a critical alert when a source logs in after 10 failures against that server', () => {
    const r = run();
    for (let i = 0; i < 10; i++) r.feed(auth(1000 + i, 'failure'));
    r.feed(auth(1011, 'success'));
    expect(r.alerts).toHaveLength(1);
    const a = r.alerts[0]!;
    expect(a).toMatchObject({ kind: 'ssh_login_after_bruteforce', severity: 'critical', src: '203.0.113.7', dst: '10.0.0.22', dport: 22, technique: 'T1110' });
    expect(a.evidence).toMatchObject({ failures_before_success: 10, success_ts: 1011 });
    expect(String(a.evidence.note)).toContain('T1078');
  });

  it('stays silent after 9 failures, and for a login with no failures at all', () => {
    const r = run();
    for (let i = 0; i < 9; i++) r.feed(auth(1000 + i, 'failure'));
    r.feed(auth(1010, 'success'));
    r.feed(auth(1020, 'success', '198.51.100.1'));
    expect(r.alerts).toHaveLength(0);
  });

  it('counts failures reported up to 30 s after the success (parallel guessers), not later', () => {
    const late = run();
    for (let i = 0; i < 5; i++) late.feed(auth(1000 + i, 'failure'));
    late.feed(auth(1010, 'success'));
    for (let i = 0; i < 5; i++) late.feed(auth(1040 + i * 0.001 - 0.01, 'failure')); // 1039.99 … 1039.994
    expect(late.alerts).toHaveLength(1);
    const tooLate = run();
    for (let i = 0; i < 5; i++) tooLate.feed(auth(1000 + i, 'failure'));
    tooLate.feed(auth(1010, 'success'));
    for (let i = 0; i < 5; i++) tooLate.feed(auth(1040.01 + i, 'failure'));
    expect(tooLate.alerts).toHaveLength(0);
  });

  it('completes a pending success when an undecided connection that started before it closes later', () => {
    const r = run();
    for (let i = 0; i < 9; i++) r.feed(auth(1000 + i, 'failure'));
    r.feed(auth(1010, 'success'));
    expect(r.alerts).toHaveLength(0);
    r.d.advance(1100, r.emit);
    r.d.onEvent(auth(1005, 'unknown'), r.emit); // conn summary carries the flow start time
    expect(r.alerts).toHaveLength(1);
  });

  it('ignores failures older than the 1800 s window before the success', () => {
    const r = run();
    for (let i = 0; i < 10; i++) r.feed(auth(1000 + i, 'failure'));
    r.feed(auth(1000 + 9 + 1801, 'success')); // only the last failure is 1801 s old… all are older than 1800 s
    expect(r.alerts).toHaveLength(0);
  });

  it('does not blame a login to another server', () => {
    const r = run();
    for (let i = 0; i < 30; i++) r.feed(auth(1000 + i, 'failure', '203.0.113.7', '10.0.0.22'));
    r.feed(auth(1031, 'success', '203.0.113.7', '10.0.0.23'));
    expect(r.alerts).toHaveLength(0);
  });

  it('alerts once per episode and sends the totals when it ends', () => {
    const r = run();
    for (let i = 0; i < 12; i++) r.feed(auth(1000 + i, 'failure'));
    r.feed(auth(1013, 'success'));
    r.feed(auth(1014, 'success'));
    expect(r.alerts).toHaveLength(1);
    r.d.advance(1014 + 601, r.emit);
    expect(r.alerts).toHaveLength(2);
    expect(r.alerts[1]).toMatchObject({ update: true, src: '203.0.113.7', dst: '10.0.0.22' });
    expect(r.alerts[1]!.evidence).toMatchObject({ successes: 2, failed_attempts: 12, episode_end: true });
  });

  it('stays silent for a user who mistypes twice before logging in, all day', () => {
    const r = run();
    for (let k = 0; k < 100; k++) {
      const t = 1000 + k * 900;
      r.feed(auth(t, 'failure')); r.feed(auth(t + 4, 'failure')); r.feed(auth(t + 8, 'success'));
    }
    expect(r.alerts).toHaveLength(0);
  });

  it('keeps at most maxPairs pairs when a million distinct sources each fail once', () => {
    const r = run();
    for (let i = 0; i < 1_000_000; i++) {
      r.d.onEvent(auth(1000 + i / 1000, 'failure', `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`), r.emit);
    }
    expect(r.d.stats().pairs).toBeLessThanOrEqual(SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS.maxPairs);
    expect(r.d.stats().pairs_evicted).toBe(1_000_000 - SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS.maxPairs);
  }, 240_000);
});
