/**
 * The HTML report in a real headless Chromium: it renders without console
 * messages, page errors or failed requests and makes no request at all; the
 * timeline has one mark per alert; attacker-controlled strings arrive as text.
 *
 * The hostile input is real traffic: bundled attack captures with one
 * User-Agent (http-path-scan.pcap, Nikto's) and one DNS label
 * (dns-tunnel.pcap) overwritten in place by markup of the same length, so the
 * captures stay valid and the detectors still fire on them (the agent keeps
 * "nikto"). analyze writes the alerts and the report; then one alert line
 * crafted by hand (markup in every string field, `</script>`, `<!--`, a
 * `javascript:` pcap name) is appended and `tapwatch report` renders the file.
 * Each page is also loaded with its Content-Security-Policy removed, so the
 * test shows the escaping holds on its own, not only behind the policy.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { haveChromium, launch, openWatched, type Watched } from '../helpers/browser.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-report-'));

const UA = 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)';
const UA2 = 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000004)';
const LABEL = '20e20000erymz76l6v5d3gkwth5ibf';
/** same lengths as what they replace */
const HOSTILE_UA = 'nikto<img src=x onerror=alert(1)><b id=pwn1>ua</b>XXXXXX';
const HOSTILE_UA2 = 'nikto</script><script>alert(2)</script><!--<i id=pwn2>XX';
const HOSTILE_LABEL = '<img src=x onerror=alert(3)>ZZ';
const CRAFTED = {
  ts: 1795633700.5, ts_first: 1795633699, ts_last: 1795633700.5, sensor: 'analyze', id: '"><img src=x onerror=alert(4)>',
  kind: 'dns_tunnel', severity: 'critical', confidence: 0.9,
  summary: 'crafted </script><script>window.__pwned=1;alert(5)</script> and <!-- comment --> <svg onload=alert(6)>',
  evidence: { sample_names: ['</script><img src=x onerror=alert(7)>.evil.test'], user_agent: '<iframe src="javascript:alert(8)"></iframe>' },
  src: '<img src=x onerror=alert(9)>', dst: '10.77.0.2', pcap: 'javascript:alert(10)',
};

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** a bundled capture with `pairs` of equal-length byte strings replaced everywhere; returns the path and the count */
function patched(name: string, pairs: [string, string][]): [string, number] {
  let buf = readFileSync(join(ROOT, 'pcaps', name));
  let n = 0;
  for (const [from, to] of pairs) {
    expect(to.length).toBe(from.length);
    const f = Buffer.from(from, 'latin1'), t = Buffer.from(to, 'latin1');
    for (let i = buf.indexOf(f); i >= 0; i = buf.indexOf(f, i + t.length)) { t.copy(buf, i); n++; }
  }
  const out = join(dir, `hostile-${name}`);
  writeFileSync(out, buf);
  buf = Buffer.alloc(0);
  return [out, n];
}

interface PageFacts {
  marks: number; rows: number; imgs: number; iframes: number; svgsInTables: number; scripts: number; handlers: number;
  pwned: string; injectedIds: number; links: string[];
}

async function facts(w: Watched): Promise<PageFacts> {
  await w.page.waitForSelector('body.ready', { timeout: 10_000 });
  return w.page.evaluate(() => ({
    marks: document.querySelectorAll('#timeline .mark').length,
    rows: document.querySelectorAll('#alerts tbody tr').length,
    imgs: document.querySelectorAll('img').length,
    iframes: document.querySelectorAll('iframe').length,
    svgsInTables: document.querySelectorAll('table svg').length,
    scripts: document.querySelectorAll('script').length,
    handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
    pwned: typeof (window as unknown as { __pwned?: unknown }).__pwned,
    injectedIds: document.querySelectorAll('#pwn1, #pwn2').length,
    links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href') ?? '').filter((h) => !h.startsWith('#')),
  }));
}

/** the element whose own text holds `text` is in the page and visible (after `open` is clicked, when given) */
async function visibleText(w: Watched, selector: string, text: string): Promise<boolean> {
  return w.page.evaluate((sel, t) => [...document.querySelectorAll(sel)].some((e) => {
    if (!(e.textContent ?? '').includes(t)) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (e as HTMLElement).checkVisibility();
  }), selector, text);
}

const clean = (w: Watched): void => {
  expect(w.console).toEqual([]);
  expect(w.errors).toEqual([]);
  expect(w.failed).toEqual([]);
  expect(w.requests).toEqual([]);
  expect(w.dialogs).toEqual([]);
};

describe.skipIf(!haveChromium())('HTML report in headless Chromium', () => {
  let browser: Browser;
  let close: () => Promise<void>;
  const alerts = join(dir, 'alerts.jsonl'), events = join(dir, 'events.jsonl');
  const fromAnalyze = join(dir, 'analyze.html'), fromReport = join(dir, 'report.html');
  let newAlerts = 0;

  beforeAll(async () => {
    const [http, nh] = patched('http-path-scan.pcap', [[UA, HOSTILE_UA], [UA2, HOSTILE_UA2]]);
    const [dns, nd] = patched('dns-tunnel.pcap', [[LABEL, HOSTILE_LABEL]]);
    expect(nh).toBe(40); // 20 requests with each agent
    expect(nd).toBe(2); // the query and its answer
    const r = cli(['analyze', '--config', join(ROOT, 'pcaps/lab.json'), http, dns, join(ROOT, 'pcaps/nmap-syn-scan.pcap'), '-q', '-o', alerts, '-e', events, '--report', fromAnalyze]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // the hostile strings went through analysis into the alerts, as sent
    const recs = readFileSync(alerts, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { evidence: Record<string, unknown> });
    const scan = recs.find((a) => a.kind === 'http_scan')!;
    expect(scan.evidence.scanner_agent).toBe(HOSTILE_UA);
    expect(recs.filter((a) => a.kind === 'http_scan').some((a) => (a.evidence.scanner_agents as string[] | undefined)?.includes(HOSTILE_UA2))).toBe(true);
    expect(recs.find((a) => a.kind === 'dns_tunnel')!.evidence.sample_names).toContain(`${HOSTILE_LABEL}.dnsn4pkqb2myx7dpkqea4cgaiizg3q.t.exfil.test`);
    // alerts as the file counts them: every record that is not an incident and not an update of an earlier one
    newAlerts = recs.filter((a) => a.kind !== 'incident' && a.update !== true).length;
    expect(newAlerts).toBeGreaterThanOrEqual(3);
    appendFileSync(alerts, JSON.stringify(CRAFTED) + '\n');
    const r2 = cli(['report', alerts, events, '-o', fromReport]);
    expect(r2.err).toBe('');
    expect(r2.code).toBe(0);
    ({ browser, close } = await launch());
  }, 120_000);

  afterAll(async () => { await close?.(); });

  it('writes no hostile string as markup into the file', () => {
    for (const f of [fromAnalyze, fromReport]) {
      const html = readFileSync(f, 'utf8');
      // (the handlers' text, `onerror=…`, is in the JSON, harmless without the `<` that would open a tag)
      expect(html).not.toMatch(/<img|<iframe|<svg|<b id|<i id|<!--/i);
      // exactly our two script elements (the data and the code), nothing a string closed or opened
      expect(html.match(/<script/gi)).toHaveLength(2);
      expect(html.match(/<\/script/gi)).toHaveLength(2);
      const block = html.match(/<script type="application\/json" id="tapwatch-data">([^<]*)<\/script>/)!;
      const data = JSON.parse(block[1]!) as { alerts: { summary: string }[] };
      expect(data.alerts.some((a) => a.summary.includes(HOSTILE_UA))).toBe(true);
      // nothing to fetch, no CDN: outside the data (whose URLs are text) no URL but the SVG namespace name, no src/href/url()/@import
      const code = html.replace(block[0], '').replaceAll('http://www.w3.org/2000/svg', '');
      expect(code).not.toMatch(/https?:\/\/|url\(|@import|\ssrc=|\shref=/i);
    }
  });

  for (const csp of [true, false]) {
    it(`renders offline, one mark per alert, hostile text as text${csp ? '' : ' (Content-Security-Policy removed)'}`, async () => {
      for (const [file, expected] of [[fromAnalyze, newAlerts], [fromReport, newAlerts + 1]] as const) {
        let path = file;
        if (!csp) {
          path = file.replace(/\.html$/, '-nocsp.html');
          const html = readFileSync(file, 'utf8');
          const stripped = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
          expect(stripped.length).toBeLessThan(html.length);
          writeFileSync(path, stripped);
        }
        const w = await openWatched(browser, path);
        const f = await facts(w);
        expect(f.marks).toBe(expected);
        expect(f.rows).toBe(expected);
        expect(f).toMatchObject({ imgs: 0, iframes: 0, svgsInTables: 0, scripts: 2, handlers: 0, pwned: 'undefined', injectedIds: 0, links: [] });
        // the agents are visible in the alert summary as the characters they are
        expect(await visibleText(w, '#alerts .s', `"${HOSTILE_UA}"`)).toBe(true);
        // the DNS name: click the dns_tunnel mark, its evidence opens and shows the name
        const i = await w.page.evaluate(() => [...document.querySelectorAll('#alerts tbody tr')].findIndex((r) => r.textContent?.includes('exfil.test') && r.textContent.includes('dns_tunnel')));
        expect(i).toBeGreaterThanOrEqual(0);
        await w.page.click(`#timeline .mark[data-alert="${i}"]`);
        expect(await visibleText(w, `#alert-${i} pre`, HOSTILE_LABEL)).toBe(true);
        if (file === fromReport) {
          expect(await visibleText(w, '#alerts .s', '</script><script>window.__pwned=1;alert(5)</script>')).toBe(true);
          expect(await visibleText(w, '#alerts .s', '<svg onload=alert(6)>')).toBe(true);
          expect(await visibleText(w, '#alerts td', CRAFTED.src)).toBe(true);
          // the bad pcap name is shown, not linked
          expect(await visibleText(w, '#alerts .pcapname', 'javascript:alert(10)')).toBe(true);
        }
        await new Promise((r) => setTimeout(r, 300)); // a late onerror/timer would show here
        expect((await facts(w)).pwned).toBe('undefined');
        clean(w);
        await w.page.close();
      }
    }, 60_000);
  }
});

describe('tapwatch report: bad input', () => {
  it('names a missing file and a file that is not alerts in one line, exit 2', () => {
    const missing = cli(['report', join(dir, 'nope.jsonl'), '-o', join(dir, 'x.html')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^tapwatch: .*nope\.jsonl: no such file\n$/);
    const notAlerts = cli(['report', join(ROOT, 'pcaps/beacon.pcap'), '-o', join(dir, 'x.html')]);
    expect(notAlerts.code).toBe(2);
    expect(notAlerts.err).toMatch(/^tapwatch: .*beacon\.pcap: not an alert file \(none of its \d+ lines is a tapwatch alert\)\n$/);
  });
});
