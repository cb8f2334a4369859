/**
 * The detection scorecard (src/score/scorecard.ts, `npm run score`) as a test:
 * one case per capture — bundled (pcaps/expected.json) and public corpus
 * (pcaps/public-expected.json) — failing on a missed expectation, a wrong
 * attacker, a time-to-detect bound exceeded, or a false alert. The whole table
 * and the totals are printed. Without the corpus the public part is skipped
 * with the reason (TAPWATCH_CORPUS, as in test/conformance/oracle.test.ts).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { resolve } from 'node:path';
import { findCorpus, readEntries, scoreCapture, summarize, text, type CaptureScore } from '../../src/score/scorecard.js';

const PCAPS = resolve(__dirname, '../../pcaps');
const bundled = readEntries(resolve(PCAPS, 'expected.json'));
const pub = readEntries(resolve(PCAPS, 'public-expected.json'));
const corpus = findCorpus();

const results = new Map<string, CaptureScore>();

function describeFailure(c: CaptureScore): string {
  return `${c.file}:\n  ${c.problems.join('\n  ')}`;
}

describe('scorecard: the scoring itself can fail', () => {
  it('an expectation naming the wrong attacker is a miss ("raised about other hosts"), not a pass', async () => {
    const c = await scoreCapture('bundled', PCAPS, { file: 'nmap-syn-scan.pcap', attack: true, expect: [{ kind: 'port_scan', src: '10.77.0.99', dst: '10.77.0.2' }] });
    expect(c.ok).toBe(false);
    expect(c.expects[0]).toMatchObject({ raised: true, wrongHosts: true, ok: false });
    // and the real port_scan (about 10.77.0.1) is then a false alert
    expect(c.falseAlerts).toEqual(['port_scan 10.77.0.1 -> 10.77.0.2']);
  });

  it('an attack capture scored as benign counts its alert as false; the scan bound is measured from the 25th probe', async () => {
    const c = await scoreCapture('bundled', PCAPS, { file: 'nmap-connect-scan.pcap', attack: false, expect: [] });
    expect(c.ok).toBe(false);
    expect(c.falseAlerts).toContain('port_scan 10.77.0.1 -> 10.77.0.2');
    const right = await scoreCapture('bundled', PCAPS, { file: 'nmap-connect-scan.pcap', attack: true, expect: [{ kind: 'port_scan', src: '10.77.0.1', dst: '10.77.0.2' }] });
    expect(right.expects[0]!.bound).toMatchObject({ from: '25th probe', limit: 5, ok: true });
  });

  it('a known distance (known_over) that is no longer true is a problem: the list cannot go stale', async () => {
    const c = await scoreCapture('bundled', PCAPS, { file: 'nmap-connect-scan.pcap', attack: true, expect: [{ kind: 'port_scan', src: '10.77.0.1', dst: '10.77.0.2', known_over: 'test' }] });
    expect(c.ok).toBe(false);
    expect(c.problems[0]).toMatch(/within its bound now .*remove known_over/);
  });

  it('an expectation nothing raises is a miss', async () => {
    const c = await scoreCapture('bundled', PCAPS, { file: 'benign-dns.pcap', attack: true, expect: [{ kind: 'dns_tunnel', src: '10.77.0.1' }] });
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual(['dns_tunnel: not raised']);
  });
});

describe('scorecard: bundled captures (pcaps/expected.json)', () => {
  beforeAll(async () => {
    for (const e of bundled) results.set(`b:${e.file}`, await scoreCapture('bundled', PCAPS, e));
  }, 300_000);

  for (const e of bundled) {
    it(`${e.file}: ${e.expect.length ? e.expect.map((x) => x.kind).join(', ') : 'silent'}`, () => {
      const c = results.get(`b:${e.file}`)!;
      expect(c.problems, describeFailure(c)).toEqual([]);
    });
  }
});

describe.skipIf(corpus.dir === null)(`scorecard: public corpus (pcaps/public-expected.json)${corpus.dir === null ? ` — skipped: ${corpus.why}` : ''}`, () => {
  beforeAll(async () => {
    for (const e of pub) results.set(`p:${e.file}`, await scoreCapture('public', resolve(corpus.dir!, 'public'), e));
  }, 300_000);

  for (const e of pub) {
    it(`${e.file}: ${e.uncovered ? 'uncovered attack, silent' : e.expect.length ? e.expect.map((x) => x.kind).join(', ') : 'silent'}`, () => {
      const c = results.get(`p:${e.file}`)!;
      expect(c.problems, describeFailure(c)).toEqual([]);
    });
  }
});

describe('scorecard: the table', () => {
  it('prints every capture and the totals', () => {
    if (corpus.dir === null) console.log(`public corpus skipped: ${corpus.why}`);
    const captures = [...results.values()];
    const s = summarize(captures, corpus.dir === null ? corpus.why : undefined);
    console.log(text(s));
    expect(captures.length).toBe(bundled.length + (corpus.dir === null ? 0 : pub.length));
  });
});
