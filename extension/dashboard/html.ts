/**
 * The dashboard webview's HTML: a pure function (unit-tested). Strict CSP:
 * nothing loads unless allowed; the one script is allowed by a fresh crypto
 * nonce per render; no inline styles or scripts, no eval.
 */
import { randomBytes } from 'node:crypto';

export interface DashboardHtmlInput {
  /** webview.cspSource */
  cspSource: string;
  /** asWebviewUri(dist/webview/main.js).toString() */
  scriptUri: string;
  /** asWebviewUri(dist/webview/style.css).toString() */
  styleUri: string;
}

/** 128 bits from the OS CSPRNG, base64 (valid in a CSP nonce-source). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function dashboardHtml(input: DashboardHtmlInput, nonce: string = makeNonce()): string {
  const csp = contentSecurityPolicy(input.cspSource, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(input.styleUri)}">
<title>RouteLens</title>
</head>
<body>
<div id="app" role="main"></div>
<script nonce="${escapeAttr(nonce)}" src="${escapeAttr(input.scriptUri)}"></script>
</body>
</html>
`;
}
