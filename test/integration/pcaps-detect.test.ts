/**
 * Detection on the project's own captures: each attack capture (made by
 * pcaps/make-pcaps.sh from nmap, hping3, hydra, dig, curl … in network
 * namespaces) must raise its alert naming the right attacker, and the benign
 * captures must raise none. What each capture must raise is in
 * pcaps/expected.json; this test reads it, so the list and the captures
 * change together.
 */
import { describe, it, expect } from 'vitest';
import { validateAlerts } from '../helpers/schemas.js';
import { formatJson } from '../../src/alerts/format/json.js';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readCapture } from '../../src/capture/reader.js';
import { Pipeline } from '../../src/pipeline.js';
import { buildDetectors } from '../../src/detect/index.js';
import { defaultConfig, mergeConfig, parseSet } from '../../src/config.js';
import { CidrSet } from '../../src/util/cidr.js';
import type { Alert } from '../../src/alerts/types.js';

interface Expectation { kind: string; src?: string | null; dst?: string | null }
interface Entry {
  file: string; attack: boolean; expect: Expectation[]; notes?: string;
  /** other alerts that are right too (e.g. event_rate on a flood) */
  may_also?: Expectation[];
  /** HOME_NET for this capture (both ends of the lab are private addresses) */
  home_net?: string[];
  set?: string[];
}

const DIR = resolve(__dirname, '../../pcaps');
const entries: Entry[] = JSON.parse(readFileSync(resolve(DIR, 'expected.json'), 'utf8')) as Entry[];

async function alertsFor(e: Entry): Promise<Alert[]> {
  const cfg = defaultConfig();
  if (e.home_net) cfg.network.homeNet = e.home_net;
  for (const s of e.set ?? []) mergeConfig(cfg, parseSet(s));
  const alerts: Alert[] = [];
  const p = new Pipeline({
    detectors: buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet) }),
    suppression: { interval: cfg.alerts.suppression, perKind: cfg.alerts.perKind },
    onAlert: (a) => alerts.push(a),
  });
  const r = await readCapture(resolve(DIR, e.file), p);
  expect(r.warning).toBeUndefined();
  p.finish();
  validateAlerts(alerts.map((a) => formatJson(a, { hostname: 'h', sensor: 's', version: '0' })), e.file);
  return alerts;
}

describe('bundled captures: attacks are named, benign traffic is quiet', () => {
  it('pcaps/expected.json lists every capture in pcaps/', () => {
    for (const e of entries) expect(existsSync(resolve(DIR, e.file)), e.file).toBe(true);
  });

  for (const e of entries) {
    const title = e.expect.length === 0
      ? `${e.file}: raises no alert (${e.attack ? 'decoder sample' : 'benign'})`
      : `${e.file}: raises ${e.expect.map((x) => `${x.kind}${x.src ? ` from ${x.src}` : ''}${x.dst ? ` against ${x.dst}` : ''}`).join(', ')} and nothing unexpected`;
    it(title, async () => {
      const alerts = await alertsFor(e);
      const seen = alerts.map((a) => `${a.kind} ${a.src ?? '-'} -> ${a.dst ?? '-'}`);
      console.log(`${e.file}: ${alerts.length} alert(s)${alerts.length ? '\n  ' + [...new Set(seen)].join('\n  ') : ''}`);
      if (e.expect.length === 0) {
        expect(seen).toEqual([]);
        return;
      }
      const matches = (a: Alert, x: Expectation) => a.kind === x.kind && (x.src == null || a.src === x.src) && (x.dst == null || a.dst === x.dst);
      for (const x of e.expect) {
        expect(alerts.find((a) => matches(a, x)), `${x.kind} ${x.src ?? ''} ${x.dst ?? ''} in:\n${seen.join('\n')}`).toBeDefined();
      }
      // Nothing else: every alert is one of the expected ones or a listed "may also".
      const allowed = [...e.expect, ...(e.may_also ?? [])];
      const stray = alerts.filter((a) => !allowed.some((x) => matches(a, x)));
      expect(stray.map((a) => `${a.kind} ${a.src ?? '-'} -> ${a.dst ?? '-'}`)).toEqual([]);
    });
  }
});
