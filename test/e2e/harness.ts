/**
 * End-to-end harness: the packaged .vsix installed into a real VS Code
 * (code-server), the demo server with the agent, and headless Chromium driving
 * the workbench like a person. Screenshots go to test-results/e2e/.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { codeServerBinary, startCodeServer } from '../support/code-server';

export const root = join(__dirname, '../..');
export const artifacts = join(root, 'test-results/e2e');

export interface Demo {
  appPort: number;
  agentPort: number;
  token: string;
  /** GET or POST against the demo app. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  /** A GET against the agent's HTTP API, parsed. */
  api<T>(path: string, method?: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Starts examples/demo/server.mjs (no synthetic traffic: the tests send their own) with its cwd in `workspace`. */
export async function startDemo(workspace: string, discoveryDir: string, env: NodeJS.ProcessEnv = {}): Promise<Demo> {
  const child = spawn(process.execPath, [join(root, 'examples/demo/server.mjs'), '--port', '0', '--no-traffic'], {
    cwd: workspace,
    env: { ...process.env, ROUTELENS_DISCOVERY_DIR: discoveryDir, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const appPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /Demo app listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
  });
  const file = await waitFor(() => readdirSync(discoveryDir).find((f) => f === `agent-${child.pid}.json`), 10_000, 'discovery file');
  const rec = JSON.parse(readFileSync(join(discoveryDir, file), 'utf8')) as { port: number; token: string };
  const send = (port: number, method: string, path: string, body: unknown, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(data ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(data);
    });
  return {
    appPort,
    agentPort: rec.port,
    token: rec.token,
    request: (method, path, body) => send(appPort, method, path, body, {}),
    api: async <T>(path: string, method = 'GET', body?: unknown) => {
      const r = await send(rec.port, method, path, body, { authorization: `Bearer ${rec.token}` });
      if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
      return JSON.parse(r.body) as T;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Packages the extension (dist/routelens.vsix) and installs it into a fresh extensions dir. */
export function installVsix(extensionsDir: string): string {
  const vsix = join(root, 'dist/routelens.vsix');
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(vsix)) throw new Error('npm run package did not produce dist/routelens.vsix');
  execFileSync(codeServerBinary(root), ['--extensions-dir', extensionsDir, '--install-extension', vsix], { stdio: ['ignore', 'ignore', 'inherit'] });
  return vsix;
}

export interface Workbench {
  page: Page;
  browser: Browser;
  url: string;
  shot(name: string): Promise<string>;
  /** What the browser said (console errors and warnings, page errors, crashes, failed requests) and the frames it holds: printed when a test fails. */
  diagnostics(): string;
  stop(): Promise<void>;
}

/** Starts code-server (test/support/code-server.ts) with `folder` open and the given extensions, and Chromium on it. */
export async function openWorkbench(folder: string, extensionsDir: string, env: NodeJS.ProcessEnv): Promise<Workbench> {
  const server = await startCodeServer({ root, env, extensionsDir });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const url = server.workbenchUrl(folder);
  const said: string[] = [];
  const note = (line: string) => {
    said.push(`${new Date().toISOString().slice(11, 23)} ${line.slice(0, 400)}`);
    if (said.length > 60) said.shift();
  };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') note(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => note(`pageerror: ${err.message}`));
  page.on('crash', () => note('the page crashed'));
  page.on('requestfailed', (r) => note(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  mkdirSync(artifacts, { recursive: true });
  return {
    page,
    browser,
    url,
    shot: async (name) => {
      const file = join(artifacts, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    diagnostics: () => [`frames:`, ...page.frames().map((f) => `  ${f.url().slice(0, 200)}`), `browser:`, ...said.map((l) => `  ${l}`)].join('\n'),
    stop: async () => {
      await browser.close().catch(() => {});
      await server.stop();
    },
  };
}

/** What an e2e suite runs against: its own directories, the demo with its agent, VS Code on the demo. */
export interface Session {
  discovery: string;
  extensions: string;
  history: string;
  /** The running demo; a test that restarts it assigns the new one here, and the session stops that one. */
  demo: Demo;
  wb: Workbench;
}

export interface SessionSetup {
  /** Names the failure screenshots: `<shots>-failed-<test>`. */
  shots: string;
  /** Before the demo starts (seed its history directory, note files). */
  prepare?(s: Session): void;
  /** After the demo started, before VS Code opens (send requests the editor must find). */
  warm?(s: Session): Promise<void>;
  /** After everything stopped, before the directories go (remove files the suite left in the workspace). */
  cleanup?(): void;
}

/**
 * The set-up every e2e suite shares, as mocha hooks of the calling `describe`: temp discovery,
 * extensions and history directories, the packed extension installed, the demo started in
 * `workspace` (its history in the session's directory), VS Code opened on `workspace`. A failing
 * test leaves a screenshot and prints the browser's diagnostics; after the suite everything is
 * stopped and the directories removed. The returned session's fields are set once `before` ran.
 */
export function workbenchSession(workspace: string, setup: SessionSetup): Session {
  const s = {} as Session;
  before(async function () {
    this.timeout(300_000);
    s.discovery = mkdtempSync(join(tmpdir(), 'routelens-e2e-disc-'));
    s.extensions = mkdtempSync(join(tmpdir(), 'routelens-e2e-ext-'));
    s.history = mkdtempSync(join(tmpdir(), 'routelens-e2e-hist-'));
    setup.prepare?.(s);
    installVsix(s.extensions);
    s.demo = await startDemo(workspace, s.discovery, { ROUTELENS_HISTORY_DIR: s.history });
    await setup.warm?.(s);
    s.wb = await openWorkbench(workspace, s.extensions, { ROUTELENS_DISCOVERY_DIR: s.discovery });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !s.wb) return;
    await s.wb.shot(`${setup.shots}-failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => {});
    console.log(s.wb.diagnostics());
  });

  after(async function () {
    await s.wb?.stop();
    await s.demo?.stop();
    setup.cleanup?.();
    for (const dir of [s.discovery, s.extensions, s.history]) if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
