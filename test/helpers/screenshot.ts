/**
 * The README's picture of the report: `npx vite-node test/helpers/screenshot.ts REPORT.html OUT.png`
 * (headless Chromium, 1280 px wide, the top of the page: cards, timeline, rate plot, first alerts).
 * Fails when the page logged anything or made a request, as the report test does.
 */
import { launch, openWatched } from './browser.js';

const [file, out, height] = process.argv.slice(2);
if (!file || !out) { process.stderr.write('usage: screenshot.ts REPORT.html OUT.png [HEIGHT]\n'); process.exit(2); }
const { browser, close } = await launch();
try {
  const w = await openWatched(browser, file, { width: 1280, height: 900 });
  await w.page.waitForSelector('body.ready', { timeout: 10_000 });
  await w.page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1280, height: Number(height ?? 1250) } });
  const trouble = [...w.console.map((c) => c.text), ...w.errors, ...w.requests, ...w.failed, ...w.dialogs];
  if (trouble.length) { process.stderr.write(`screenshot: the page was not clean: ${trouble.join('; ')}\n`); process.exitCode = 1; }
} finally { await close(); }
