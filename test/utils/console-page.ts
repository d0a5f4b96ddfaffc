import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildConsole } from '../../src/console/build.js';
import { CONSOLE_DIST } from '../../src/console/route.js';
import { collectPageErrors, launchBrowser } from './browser.js';
import { startTestServer, type TestServer } from './server.js';

/** A console suite's world: the real API (own tenant), the console's build, a chromium. */
export interface ConsoleWorld {
  server: TestServer;
  browser: Browser;
  /** The console's address: `${base}#/tasks/<id>` opens a screen. */
  base: string;
  /** Every error any page of the suite logged; a suite ends by expecting none. */
  errors: string[];
  /** A page signed in with `key` (by keyboard), at `hash` (e.g. `#/tasks/<id>`) when given. */
  signedIn(key: string, hash?: string): Promise<Page>;
  stop(): Promise<void>;
}

/** Starts a console suite's world; the console is built first if it never was. */
export async function startConsole(): Promise<ConsoleWorld> {
  if (!existsSync(resolve(CONSOLE_DIST, 'index.html'))) await buildConsole();
  const server = await startTestServer();
  const browser = await launchBrowser();
  const base = server.url.replace(/\/graphql$/, '/console/');
  const errors: string[] = [];
  return {
    server,
    browser,
    base,
    errors,
    async signedIn(key, hash) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      errors.push(...collectPageErrors(page));
      await page.goto(base);
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('api-key');
      await page.keyboard.type(key);
      await page.keyboard.press('Enter');
      await page.getByRole('navigation', { name: 'Screens' }).waitFor();
      if (hash) await page.goto(base + hash);
      return page;
    },
    async stop() {
      await browser.close();
      await server.stop();
    },
  };
}

/** What the focused element is called: its aria-label, label or text. Plain JS for the page. */
export const FOCUSED_NAME =
  "(() => { const el = document.activeElement; return (el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || '').trim(); })()";
