import { describe, it, expect } from 'vitest';
import { Exfiltration, EXFILTRATION_DEFAULTS, type ExfiltrationConfig } from '../../../src/detect/exfiltration.js';
import { CidrSet, PRIVATE_NETS } from '../../../src/util/cidr.js';
import type { ConnEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const MiB = 1024 * 1024;
const IN = '10.1.1.5', OUT = '203.0.113.9';

/** a finished TCP connection; `out` bytes from orig to resp */
function conn(ts: number, src: string, dst: string, orig: number, resp = 100, dport = 443, duration = 1): ConnEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'conn', src, sport: 40000, dst, dport, proto: 'tcp',
    size: orig + resp, duration, orig_bytes: orig, resp_bytes: resp, orig_pkts: 10, resp_pkts: 10,
    conn_state: 'SF', history: 'ShADadFf', reason: 'closed',
  };
}

function make(over: Partial<ExfiltrationConfig> = {}, home = PRIVATE_NETS) {
  const d = new Exfiltration({ ...EXFILTRATION_DEFAULTS, ...over }, { homeNet: CidrSet.parse(home) });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  return { d, alerts, emit };
}

/** n buckets (60 s apart) with `bytes` out each, starting at t0 */
function learn(d: Exfiltration, emit: (a: Alert) => void, n: number, bytes: number, t0 = 1000, host = IN): number {
  let t = t0;
  for (let i = 0; i < n; i++, t += 60) d.onEvent(conn(t, host, OUT, bytes), emit);
  return t; // next bucket start
}

describe('exfiltration: first-seen large upload (no baseline)', () => {
  it('alerts on one connection just above the 20 MiB floor, with the inside host as src and the receiver as dst', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 20 * MiB + 1, 100, 8080), emit);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'exfiltration', src: IN, dst: OUT, dport: 8080, technique: 'T1048' });
    expect(alerts[0]!.evidence).toMatchObject({ rule: 'first_seen', bytes_out: 20 * MiB + 1, baseline_learned: false });
  });

  it('stays silent at exactly the floor', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 20 * MiB), emit);
    expect(alerts).toHaveLength(0);
  });

  it('sums connections of one bucket: two 10.5 MiB uploads in the same minute alert once', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 10.5 * MiB), emit);
    d.onEvent(conn(1010, IN, '198.51.100.7', 10.5 * MiB), emit);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.evidence).toMatchObject({ connections: 2, bytes_out: 21 * MiB });
  });

  it('does not sum across buckets: 15 MiB in one minute and 15 MiB in the next stay silent', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 15 * MiB), emit);
    d.onEvent(conn(1070, IN, OUT, 15 * MiB), emit);
    expect(alerts).toHaveLength(0);
  });
});

describe('exfiltration: direction (HOME_NET)', () => {
  it('ignores traffic between two inside hosts and between two outside hosts', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, '10.2.2.2', 100 * MiB), emit);
    d.onEvent(conn(1000, OUT, '198.51.100.7', 100 * MiB), emit);
    expect(alerts).toHaveLength(0);
  });

  it('ignores big downloads (bytes into HOME_NET)', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 500, 100 * MiB), emit);
    expect(alerts).toHaveLength(0);
  });

  it('counts resp_bytes for an inside responder of an outside originator (src = the inside host)', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, OUT, IN, 200, 25 * MiB, 22), emit);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ src: IN, dst: OUT });
  });

  it('follows a configured HOME_NET (the project capture: 10.77.0.2 home, 10.77.0.1 outside)', () => {
    const { d, alerts, emit } = make({}, ['10.77.0.2/32']);
    d.onEvent(conn(1000, '10.77.0.2', '10.77.0.1', 30 * MiB, 176, 8080), emit);
    expect(alerts[0]).toMatchObject({ src: '10.77.0.2', dst: '10.77.0.1', dport: 8080 });
  });

  it('skips allow-listed receivers and hosts', () => {
    const { d, alerts, emit } = make({ allow: ['203.0.113.0/24', '10.9.9.9'] });
    d.onEvent(conn(1000, IN, OUT, 50 * MiB), emit);
    d.onEvent(conn(1000, '10.9.9.9', '198.51.100.7', 50 * MiB), emit);
    expect(alerts).toHaveLength(0);
    expect(() => make({ allow: ['10.0.0.0/33'] })).toThrow(/detectors.exfiltration.allow/);
  });
});

describe('exfiltration: per-host baseline', () => {
  it('after learning 1 MiB/min, alerts just above max(minBytes 10 MiB, mean + 4 sd, 10 × mean) and not at it', () => {
    const { d, alerts, emit } = make();
    let t = learn(d, emit, 10, MiB);
    d.onEvent(conn(t, IN, OUT, 10 * MiB), emit); // = threshold (10 MiB floor = 10 × mean)
    expect(alerts).toHaveLength(0);
    const { d: d2, alerts: a2, emit: e2 } = make();
    t = learn(d2, e2, 10, MiB);
    d2.onEvent(conn(t, IN, OUT, 10 * MiB + 1), e2);
    expect(a2).toHaveLength(1);
    expect(a2[0]!.evidence).toMatchObject({ rule: 'baseline', baseline_buckets: 10, baseline_mean: MiB, threshold_bytes: 10 * MiB });
  });

  it('the ratio rule raises the threshold for a bigger host: 2 MiB/min baseline → 20 MiB', () => {
    const { d, alerts, emit } = make();
    const t = learn(d, emit, 10, 2 * MiB);
    d.onEvent(conn(t, IN, OUT, 19.9 * MiB), emit);
    expect(alerts).toHaveLength(0);
    d.onEvent(conn(t + 1, IN, OUT, 0.2 * MiB), emit); // same bucket: 20.1 MiB
    expect(alerts).toHaveLength(1);
  });

  it('the sigma rule raises it for a variable host', () => {
    const { d, alerts, emit } = make({ ratio: 1 });
    let t = 1000;
    for (let i = 0; i < 20; i++, t += 60) d.onEvent(conn(t, IN, OUT, (i % 2 ? 1 : 21) * MiB), emit);
    expect(alerts).toHaveLength(1); // the first 21 MiB bucket, before learning finished (first-seen floor); later ones extend it
    alerts.length = 0;
    d.onEvent(conn(t, IN, OUT, 25 * MiB), emit); // mean ≈ 11 MiB, sd ≈ 10 MiB: below mean + 4 sd
    expect(alerts).toHaveLength(0);
  });

  it('a host that habitually uploads 50 MiB per minute does not alert on a 30 MiB minute (no first-seen floor once learned)', () => {
    const { d, alerts, emit } = make();
    const t = learn(d, emit, 12, 50 * MiB);
    const before = alerts.length; // the first-seen floor fired while learning
    d.onEvent(conn(t, IN, OUT, 30 * MiB), emit);
    expect(alerts.length).toBe(before);
  });

  it('does not learn a bucket that alerted (the exfiltration does not poison the baseline)', () => {
    const { d, alerts, emit } = make({ idleTimeout: 30 });
    let t = learn(d, emit, 10, MiB);
    d.onEvent(conn(t, IN, OUT, 100 * MiB), emit);
    d.advance(t + 100, emit);
    t += 120;
    d.onEvent(conn(t, IN, OUT, 100 * MiB), emit); // closes the flagged bucket; the baseline is still 1 MiB
    expect(alerts.filter((a) => !a.update)).toHaveLength(2);
    expect(alerts.at(-1)!.evidence).toMatchObject({ baseline_mean: MiB, baseline_buckets: 10 });
  });
});

describe('exfiltration: one alert per episode', () => {
  it('extends the episode over consecutive crossing buckets and ends it after the idle timeout with an update carrying the totals', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 25 * MiB), emit);
    d.onEvent(conn(1010, IN, OUT, 5 * MiB), emit); // same flagged bucket
    d.onEvent(conn(1070, IN, OUT, 30 * MiB), emit); // next bucket crosses again
    expect(alerts).toHaveLength(1);
    d.advance(1071 + 300, emit);
    expect(alerts).toHaveLength(1); // idle exactly the timeout: not yet
    d.advance(1071 + 301, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ update: true, src: IN, dst: OUT, ts_first: 1001, ts_last: 1071 });
    expect(alerts[1]!.evidence).toMatchObject({ bytes_out: 60 * MiB, buckets: 2, connections: 3 });
    expect(d.stats().episodes_open).toBe(0);
  });

  it('emits no final update when nothing was added after the alert; flush ends open episodes', () => {
    const { d, alerts, emit } = make();
    d.onEvent(conn(1000, IN, OUT, 25 * MiB), emit);
    d.flush(1001, emit);
    expect(alerts).toHaveLength(1);
    const m = make();
    m.d.onEvent(conn(1000, IN, OUT, 25 * MiB), m.emit);
    m.d.onEvent(conn(1001, IN, OUT, 1 * MiB), m.emit);
    m.d.flush(1002, m.emit);
    expect(m.alerts.map((a) => a.update ?? false)).toEqual([false, true]);
  });
});

describe('exfiltration: benign traffic and bounded state', () => {
  it('stays silent on ordinary browsing-sized uploads from many hosts', () => {
    const { d, alerts, emit } = make();
    let t = 1000;
    for (let i = 0; i < 20_000; i++, t += 0.5) d.onEvent(conn(t, `10.0.${i % 50}.${i % 200}`, OUT, 500 + (i % 7) * 3000, 50_000), emit);
    d.flush(t, emit);
    expect(alerts).toHaveLength(0);
  });

  it('keeps at most maxHosts hosts under a million distinct inside sources, counting evictions', () => {
    const { d, alerts, emit } = make({ maxHosts: 1000 });
    for (let i = 0; i < 1_000_000; i++) {
      d.onEvent(conn(1000 + i / 1000, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, OUT, 1000), emit);
    }
    const s = d.stats();
    expect(s.hosts).toBe(1000);
    expect(s.hosts_evicted).toBe(999_000);
    expect(alerts).toHaveLength(0);
  });
});
