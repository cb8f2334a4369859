/**
 * Headless Chromium (Debian's `chromium`, installed by test/setup.sh) driven
 * through puppeteer-core, for the HTML report tests and the README screenshot.
 * Every page load is watched: console messages, page errors, requests and
 * failed requests, dialogs — a report that works offline makes no request
 * but its own document.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = (): boolean => existsSync(CHROMIUM);

export interface Watched {
  page: Page;
  console: { type: string; text: string }[];
  errors: string[];
  /** every request the page made, its own document excluded */
  requests: string[];
  failed: string[];
  dialogs: string[];
}

export async function launch(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  // a private profile per run, removed afterwards
  const profile = mkdtempSync(join(tmpdir(), 'tapwatch-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    // root in a container: no user-namespace sandbox; no GPU; no background network of the browser itself
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-default-apps', '--disable-sync', '--metrics-recording-only', '--no-default-browser-check'],
  });
  return { browser, close: async () => { await browser.close(); rmSync(profile, { recursive: true, force: true }); } };
}

/** Opens a local HTML file and records everything the page does. */
export async function openWatched(browser: Browser, file: string, viewport = { width: 1280, height: 900 }): Promise<Watched> {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  const url = pathToFileURL(file).href;
  const w: Watched = { page, console: [], errors: [], requests: [], failed: [], dialogs: [] };
  page.on('console', (m) => w.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => w.errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== url) w.requests.push(r.url()); });
  page.on('requestfailed', (r) => w.failed.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('dialog', (d) => { w.dialogs.push(`${d.type()}: ${d.message()}`); void d.dismiss(); });
  await page.goto(url, { waitUntil: 'load' });
  return w;
}
