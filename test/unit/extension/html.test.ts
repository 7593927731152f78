import assert from 'node:assert/strict';
import { contentSecurityPolicy, dashboardHtml } from '../../../extension/dashboard/html';

const input = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', scriptUri: 'https://x/dist/webview/main.js', styleUri: 'https://x/dist/webview/style.css' };

describe('extension dashboardHtml', () => {
  it('carries the strict CSP: default-src none, nonce-only scripts, no unsafe-*', () => {
    const html = dashboardHtml(input);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    assert.ok(csp);
    const nonce = /nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 22, 'a 128-bit nonce');
    assert.equal(csp, `default-src 'none'; img-src ${input.cspSource} data:; style-src ${input.cspSource}; script-src 'nonce-${nonce}'; font-src ${input.cspSource}`);
    assert.ok(!/unsafe-(eval|inline)/.test(html));
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0][1].includes(`nonce="${nonce}"`) && scripts[0][1].includes(`src="${input.scriptUri}"`));
    assert.equal(scripts[0][2].trim(), '', 'no inline script body');
    assert.ok(!/\sstyle=|<style/.test(html), 'no inline styles');
  });

  it('uses a fresh nonce on every render', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => /nonce="([^"]+)"/.exec(dashboardHtml(input))?.[1]));
    assert.equal(nonces.size, 50);
  });

  it('escapes resource URIs into attributes', () => {
    const html = dashboardHtml({ ...input, scriptUri: 'https://x/"><script>alert(1)</script>' });
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.ok(html.includes('&quot;&gt;&lt;script&gt;'));
  });

  it('contentSecurityPolicy is a pure function of its inputs', () => {
    assert.equal(contentSecurityPolicy('S', 'N'), "default-src 'none'; img-src S data:; style-src S; script-src 'nonce-N'; font-src S");
  });
});
