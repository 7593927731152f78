/**
 * Test harness for the dashboard webview: builds the bundle with esbuild (same options as
 * scripts/build.mjs), serves it on 127.0.0.1 with a page under the extension's strict CSP
 * (a fresh nonce per load), and drives it in headless Chromium with playwright-core.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import type { HostToWebview, WebviewToHost } from '../../protocol/webview';
import { parseWebviewMessage } from '../../protocol/validate';
import { launchChromium } from '../support/chromium';

export const ROOT = join(__dirname, '..', '..');
/** Where the suites write their screenshots. */
export const SHOTS = join(ROOT, 'test-results', 'webview');

/** Builds webview/main.ts → <dir>/main.js (IIFE, like scripts/build.mjs) and copies style.css. */
export async function buildBundle(minify = false): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'routelens-webview-'));
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'webview/main.ts' },
    outdir: dir,
    bundle: true,
    sourcemap: true,
    minify,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    logLevel: 'warning',
  });
  copyFileSync(join(ROOT, 'webview/style.css'), join(dir, 'style.css'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

type HtmlFn = (input: { cspSource: string; scriptUri: string; styleUri: string }, nonce: string) => string;

/**
 * The extension's own page generator (extension/dashboard/html.ts): the page under test is the
 * one VS Code gets. Fails, rather than serving some other page, when it cannot be loaded.
 */
export async function pageGenerator(file = join(ROOT, 'extension/dashboard/html.ts')): Promise<{ html: HtmlFn; source: string }> {
  let mod: { dashboardHtml?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { dashboardHtml?: unknown };
  } catch (err) {
    throw new Error(`the webview harness needs the extension's page generator ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.dashboardHtml !== 'function') throw new Error(`${file} exports no dashboardHtml function`);
  return { html: mod.dashboardHtml as HtmlFn, source: relative(ROOT, file) };
}

export interface Server {
  origin: string;
  pageSource: string;
  close(): Promise<void>;
}

/** Serves the harness page, the bundle, the stylesheet, the API shim and a theme stylesheet. */
export async function serve(dir: string): Promise<Server> {
  const gen = await pageGenerator();
  const files: Record<string, { path: string; type: string }> = {
    '/main.js': { path: join(dir, 'main.js'), type: 'text/javascript' },
    '/main.js.map': { path: join(dir, 'main.js.map'), type: 'application/json' },
    '/style.css': { path: join(dir, 'style.css'), type: 'text/css' },
    '/shim.js': { path: join(__dirname, 'harness/shim.js'), type: 'text/javascript' },
    '/theme.css': { path: join(__dirname, 'harness/theme.css'), type: 'text/css' },
  };
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/' || url.pathname === '/harness.html') {
      const nonce = randomBytes(16).toString('base64');
      const theme = url.searchParams.get('theme') === 'light' ? 'vscode-light' : 'vscode-dark';
      let page = gen.html({ cspSource: origin, scriptUri: `${origin}/main.js`, styleUri: `${origin}/style.css` }, nonce);
      // What VS Code adds around the extension's HTML: its API and theme variables, and the theme class.
      page = page
        .replace('</head>', `<link rel="stylesheet" href="${origin}/theme.css"><script nonce="${nonce}" src="${origin}/shim.js"></script></head>`)
        .replace('<body>', `<body class="${theme}" data-vscode-theme-kind="${theme}">`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page);
      return;
    }
    const f = files[url.pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(f.path);
      res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageSource: gen.source,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One dashboard page with what the tests watch: posted messages, dialogs, CSP reports, errors. */
export class Dashboard {
  readonly dialogs: string[] = [];
  readonly cspConsole: string[] = [];
  readonly pageErrors: string[] = [];
  readonly requests: string[] = [];

  private constructor(
    readonly page: Page,
    readonly origin: string,
  ) {
    page.on('dialog', (d) => {
      this.dialogs.push(d.message());
      void d.dismiss().catch(() => undefined);
    });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) this.cspConsole.push(m.text());
    });
    page.on('pageerror', (e) => this.pageErrors.push(String(e)));
    page.on('request', (r) => this.requests.push(r.url()));
  }

  static async open(browser: Browser, origin: string, opts: { theme?: 'dark' | 'light'; width?: number; height?: number } = {}): Promise<Dashboard> {
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
    const d = new Dashboard(page, origin);
    // As in the editor, which opens the dashboard with forms disabled (enableForms: false): no
    // form ever fires `submit`, so a control that relies on it does nothing here either.
    await page.addInitScript(() => {
      document.addEventListener('submit', (ev) => {
        ev.preventDefault();
        ev.stopImmediatePropagation();
      }, true);
    });
    await page.goto(`${origin}/harness.html?theme=${opts.theme ?? 'dark'}`);
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    return d;
  }

  /** Delivers a host message the way VS Code does (a window message event). */
  async send(msg: HostToWebview): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, '*'), msg as unknown as Record<string, unknown>);
  }

  async posted(): Promise<WebviewToHost[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted);
  }

  /** Waits until a command was posted and returns it. */
  async waitForCommand(command: string): Promise<Extract<WebviewToHost, { type: 'command' }>> {
    const handle = await this.page.waitForFunction(
      (c) => (window as unknown as { __posted: Array<{ type: string; command?: string }> }).__posted.filter((m) => m.type === 'command' && m.command === c).pop(),
      command,
    );
    return (await handle.jsonValue()) as Extract<WebviewToHost, { type: 'command' }>;
  }

  async violations(): Promise<string[]> {
    const v = await this.page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
    return [...v, ...this.cspConsole];
  }

  /** Waits two animation frames so a coalesced render has run. */
  async settle(): Promise<void> {
    await this.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  }

  async tab(name: string): Promise<void> {
    await this.page.click(`button[role=tab][data-tab="${name}"]`);
    await this.settle();
  }

  /** Route ids of the table rows currently shown, top to bottom. */
  async rowIds(): Promise<string[]> {
    return this.page.$$eval('.endpoint-table tbody tr:not(.spacer):not([hidden])', (rows) =>
      rows.map((r) => `${r.children[0]!.textContent} ${r.children[1]!.textContent}`),
    );
  }
}

export interface DashboardSuite {
  /** This test's page (fresh for each test). */
  readonly d: Dashboard;
  readonly server: Server;
  /** The suite's own bundle (built from the sources, not dist/). */
  readonly bundleDir: string;
}

/**
 * Registers a suite's hooks (call inside `describe`): one bundle, server and
 * browser for the suite, a fresh page per test, and after each passing test
 * the checks every dashboard test shares: no CSP violation, no dialog, no
 * script error, nothing loaded from elsewhere, and nothing posted that the
 * host's own validator (allow-list and argument schemas) would refuse.
 */
export function dashboardSuite(): DashboardSuite {
  let bundle: Awaited<ReturnType<typeof buildBundle>> | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let d: Dashboard | undefined;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    bundle = await buildBundle();
    server = await serve(bundle.dir);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    bundle?.cleanup();
  });

  beforeEach(async () => {
    d = await Dashboard.open(browser!, server!.origin);
  });

  afterEach(async function () {
    const page = d!;
    const violations = await page.violations();
    const foreign = page.requests.filter((u) => !u.startsWith(server!.origin));
    const refused = (await page.posted()).map((m) => ({ m, r: parseWebviewMessage(m) })).filter((x) => !x.r.ok);
    await page.page.close();
    if (this.currentTest?.state === 'failed') return;
    assert.deepEqual(violations, [], 'CSP violations');
    assert.deepEqual(page.dialogs, [], 'dialogs fired');
    assert.deepEqual(page.pageErrors, [], 'page errors');
    assert.deepEqual(foreign, [], 'requests outside the harness origin');
    assert.deepEqual(refused, [], 'messages the host would refuse');
  });

  return {
    get d() {
      return d!;
    },
    get server() {
      return server!;
    },
    get bundleDir() {
      return bundle!.dir;
    },
  };
}
