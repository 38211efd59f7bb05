// browser.js launches Debian's Chromium through playwright-core. Nothing
// is downloaded: the executable is the system one.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { outDir } from './vitrine.js';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// Without the background-networking flags Chromium tries to reach Google's
// services at start, which this closed network refuses.
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// launch starts a headless Chromium; launch() gives it a fresh temporary
// profile of its own each time.
export function launch() {
  return chromium.launch({ executablePath: chromiumPath, args: ARGS, headless: true });
}

// newPage opens a page and collects what would otherwise go unnoticed:
// uncaught errors, console errors and CSP violations fail the test in
// assertClean().
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  // Fail in seconds rather than Playwright's default 30 s: every wait here
  // is for something that takes well under a second when it works.
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A refused request is logged as "Failed to load resource"; the tests
    // provoke some on purpose and check the page's own message instead.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  // Every Content-Security-Policy violation (an inline style, an eval...)
  // is recorded, as the admin page must have none.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.problems = problems;
  return page;
}

// assertClean fails when the page had an uncaught error, a console error or
// a CSP violation.
export function assertClean(page) {
  if (page.problems.length) throw new Error(`the page reported problems:\n${page.problems.join('\n')}`);
}

// waitUntil waits for fn (run in the page with arg) to return something
// truthy, and returns it.
export async function waitUntil(page, fn, arg, timeout = 15_000) {
  const handle = await page.waitForFunction(fn, arg, { timeout });
  return handle.jsonValue();
}

// screenshot saves a PNG of a page or of one element (a locator) to
// e2e/out/. docs: true marks one of the main screens shown in the README:
// those are copied to VITRINE_SCREENSHOTS_DIR too when it is set (npm run
// screenshots sets it to docs/screenshots), and made smaller with
// pngquant and optipng when they are installed (apt-get install pngquant
// optipng).
export async function screenshot(target, name, { docs: toDocs = false, ...options } = {}) {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.png`);
  await target.screenshot({ path: file, ...options });
  const docs = process.env.VITRINE_SCREENSHOTS_DIR;
  if (docs && toDocs) {
    fs.mkdirSync(docs, { recursive: true });
    const dest = path.join(docs, `${name}.png`);
    fs.copyFileSync(file, dest);
    optimize(dest);
  }
  return file;
}

function optimize(file) {
  const run = (cmd, args) => {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch (err) {
      // pngquant exits 98 or 99 when its result would be worse: keep the file.
      if (err.code !== 'ENOENT' && err.status !== 98 && err.status !== 99) throw err;
    }
  };
  run('pngquant', ['--force', '--skip-if-larger', '--quality=70-95', '--output', file, file]);
  run('optipng', ['-quiet', '-o2', file]);
}

// quiet readies a page for a picture in the README: the toast goes and
// nothing has focus, so neither hides nor rings a control.
export async function quiet(page) {
  await page.evaluate(() => {
    document.getElementById('announcer').textContent = '';
    document.activeElement?.blur();
  });
}
