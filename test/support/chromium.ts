/**
 * Headless Chromium from Debian (`/usr/bin/chromium`) driven by playwright-core, for the report tests.
 * No browser is downloaded; a missing binary fails the suite rather than skipping it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install the Debian package 'chromium' (.ci/run does)`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The machine has no network beyond loopback: keep Chromium from reaching out at start-up.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    // playwright gives each launch a fresh temporary profile and removes it on close.
    close: () => browser.close(),
  };
}
