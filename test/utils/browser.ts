import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync) ??
  null;

export const NO_CHROMIUM =
  'No chromium: install Debian’s `chromium` package (`.ci/run` does) or set CHROMIUM_PATH';

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error(NO_CHROMIUM);
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** Every error the page logs or throws, so a test can assert there were none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page: ${err.message}`));
  return errors;
}

/**
 * Accessibility basics of what the page shows now: every form control and button has an
 * accessible name, every image a text alternative, ids are unique, and there is one h1.
 */
export async function a11yProblems(page: Page): Promise<string[]> {
  return page.evaluate(A11Y_CHECK) as Promise<string[]>;
}

/** Runs in the page (plain JavaScript: the test's TypeScript has no DOM types). */
const A11Y_CHECK = `(() => {
  const problems = [];
  const describe = (el) => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') ||
      el.getAttribute('aria-labelledby');
    if (!named) problems.push('control without a label: ' + describe(el));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
    if (!name) problems.push('button or link without a name: ' + describe(el));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt: ' + describe(img));
  }
  const ids = [...document.querySelectorAll('[id]')].map((el) => el.id);
  for (const id of new Set(ids)) {
    if (ids.filter((x) => x === id).length > 1) problems.push('duplicate id: ' + id);
  }
  const h1s = document.querySelectorAll('h1').length;
  if (h1s !== 1) problems.push(h1s + ' h1 headings (one per screen)');
  return problems;
})()`;
