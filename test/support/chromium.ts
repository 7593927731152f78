/**
 * Headless Chromium for the webview, extension-host and end-to-end tests: Debian's
 * /usr/bin/chromium (CHROMIUM_PATH overrides) with the flags this sandbox needs
 * (../shared/notes: no sandbox as root, no background connections the closed network refuses;
 * no /dev/shm, which a container may keep too small for the workbench and its webviews).
 */
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}
