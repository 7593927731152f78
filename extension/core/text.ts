/**
 * Untrusted strings (routes, keys, alert text from the agent) shown in editor
 * surfaces: plain text only. Strips control and bidi characters, defuses
 * codicon syntax `$(name)`, and bounds the length.
 */
// C0/C1 controls (tab and newline included: one-line surfaces), bidi embeddings/overrides/isolates, zero-width joiners.
// eslint-disable-next-line no-control-regex -- matching control characters is what this is for
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

export function plainText(value: string, max = 200): string {
  let s = String(value).replace(UNSAFE, ' ').replace(/\$\(/g, '$\u2060(');
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s;
}

/** Escapes text for a Markdown table cell or paragraph (no HTML, no links, no code spans). */
export function markdownText(value: string, max = 500): string {
  return plainText(value, max).replace(/[\\`*_{}[\]()#+\-.!|<>&~]/g, (c) => `\\${c}`);
}
