/**
 * Every event and every alert tapwatch writes for every bundled capture
 * (pcaps/) and every capture of the public corpus (shared/pcaps/public) is
 * valid against schemas/event.schema.json and schemas/alert.schema.json, and
 * each alert's ECS document uses only ECS 9.4.0 fields (or tapwatch.*) with
 * fitting values. Runs the real `analyze` (all default detectors, fold,
 * incidents) in-process, written through its own writers.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyze } from '../../src/cli/analyze.js';
import { defaultConfig } from '../../src/config.js';
import { formatEcs } from '../../src/alerts/format/ecs.js';
import type { Alert } from '../../src/alerts/types.js';
import { validateAlerts, validateEvents } from '../helpers/schemas.js';
import { ecsProblems, loadEcsFields } from '../helpers/ecs.js';
import { findCorpus } from '../helpers/corpus.js';

const tmp = mkdtempSync(join(tmpdir(), 'tapwatch-schemas-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fields = loadEcsFields();

/** event types and alert kinds seen over all captures, to show the corpus reaches the schema's branches */
const seenTypes = new Set<string>();
const seenKinds = new Set<string>();

async function check(file: string): Promise<{ events: number; alerts: number }> {
  const out = join(tmp, 'alerts.jsonl');
  const ev = join(tmp, 'events.jsonl');
  const config = defaultConfig();
  config.flows.uidSeed = '7';
  config.flows.workers = 1;
  await analyze({ files: [file], output: out, format: 'json', payload: 'json', events: ev, config, quiet: true, version: '0.0.0' });
  const eventLines = readFileSync(ev, 'utf8');
  const alertLines = readFileSync(out, 'utf8');
  const events = validateEvents(eventLines, file);
  const alerts = validateAlerts(alertLines, file);
  for (const l of eventLines.split('\n')) if (l) seenTypes.add((JSON.parse(l) as { type: string }).type);
  for (const l of alertLines.split('\n')) {
    if (!l) continue;
    const { sensor: _s, ...a } = JSON.parse(l) as Alert & { sensor: string };
    seenKinds.add(a.kind);
    const doc = JSON.parse(formatEcs(a, { hostname: 'h', sensor: 's', version: '0.0.0' })) as Record<string, unknown>;
    expect(ecsProblems(doc, fields), `${file}: ECS document of ${a.kind}`).toEqual([]);
  }
  return { events, alerts };
}

const bundled = resolve(__dirname, '../../pcaps');
const corpus = findCorpus();

describe('schemas: bundled captures', () => {
  for (const f of readdirSync(bundled).filter((n) => /\.pcap(ng)?$/.test(n)).sort()) {
    it(`${f}: every event and alert matches its schema; every ECS field is ECS`, async () => {
      const n = await check(join(bundled, f));
      expect(n.events).toBeGreaterThan(0);
    });
  }
  it('the bundled captures reach most event types and alert kinds', () => {
    expect(seenTypes.size).toBeGreaterThanOrEqual(10);
    expect(seenKinds.size).toBeGreaterThanOrEqual(8);
    expect(seenKinds).toContain('incident'); // the fixed incident evidence is exercised too
  });
});

describe.skipIf(!corpus.dir)(`schemas: public corpus${corpus.dir ? '' : ` (skipped: ${corpus.why})`}`, () => {
  const dir = corpus.dir ? join(corpus.dir, 'public') : '';
  const files = corpus.dir ? readdirSync(dir).filter((n) => /\.(pcap|pcapng|cap)$/.test(n)).sort() : [];
  for (const f of files) {
    it(`${f}: every event and alert matches its schema`, async () => {
      await check(join(dir, f));
    }, 60_000);
  }
});
