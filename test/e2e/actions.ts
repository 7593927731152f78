/**
 * What a person does in the workbench, shared by the end-to-end suites: open a
 * file from the Explorer, run a command from the palette, pick a quick-pick
 * row, read notifications, lenses and the cursor position, find the dashboard.
 */
import type { Frame, Page } from 'playwright-core';
import { waitFor } from './harness';

export async function openFile(page: Page, name: string): Promise<void> {
  const item = page.locator('.explorer-item', { hasText: name }).first();
  await item.waitFor({ timeout: 60_000 });
  await item.dblclick();
  await page.locator('.tab', { hasText: name }).first().waitFor({ timeout: 30_000 });
}

export async function runCommand(page: Page, title: string): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 800, y: 500 } });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ timeout: 15_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
}

export async function pickItem(page: Page, label: RegExp): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: label }).first();
  await row.waitFor({ timeout: 20_000 });
  await row.click();
}

export async function notificationText(page: Page, pattern: RegExp): Promise<string | undefined> {
  const texts = await page.locator('.notification-list-item-message').allInnerTexts();
  return texts.find((t) => pattern.test(t));
}

/** The code lens texts of the visible editor. */
export async function lensTexts(page: Page): Promise<string[]> {
  return page.locator('.codelens-decoration a').allInnerTexts();
}

/** Waits until the status bar shows the cursor at `line`:`column` ("Ln X, Col Y"), or anywhere on `line` without a column. Returns the status text. */
export async function waitForCursor(page: Page, line: number, column?: number, ms = 30_000): Promise<string> {
  const position = new RegExp(`Ln ${line}, Col ${column ?? '\\d+'}\\b`);
  return waitFor(async () => (await page.locator('.statusbar-item').allInnerTexts()).find((t) => position.test(t)), ms, `the cursor at ${line}:${column ?? 'any column'}`);
}

/** Waits until the active editor tab's title contains `name`. */
export async function waitForActiveTab(page: Page, name: string | RegExp, ms = 30_000): Promise<string> {
  const match = (t: string) => (typeof name === 'string' ? t.includes(name) : name.test(t));
  return waitFor(async () => (await page.locator('.tab.active').allInnerTexts()).find(match), ms, `${String(name)} active in the editor`);
}

/**
 * The webview's inner frame whose document shows `text` somewhere visible. Any visible match
 * counts: the first match in the document may sit in a hidden tab (the Overview's lists hold
 * route names too), and which tab shows depends on the state the dashboard restored.
 */
export async function dashboardFrame(page: Page, text: string): Promise<Frame | undefined> {
  for (const frame of page.frames()) {
    try {
      if ((await frame.getByText(text, { exact: false }).filter({ visible: true }).count()) > 0) {
        if (frame !== page.mainFrame()) return frame;
      }
    } catch {
      /* detached or cross-origin frame still loading */
    }
  }
  return undefined;
}
