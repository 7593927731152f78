/**
 * Findings (protocol/spans.ts) as the editor shows them: the short lens title,
 * the Problems-panel text, grouping by endpoint. Pure (no vscode), so it is
 * unit-tested in plain Node. Every string from the agent passes `plainText`.
 */
import { FINDING_LABELS, type Finding, type SourceLocation, shortLocation as shortPath } from '../../protocol';

export { FINDING_LABELS };
import { plainText } from './text';

/** Longest lens suffix: a lens is one line above the code. */
export const LENS_TITLE_MAX = 64;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** `SELECT … FROM items WHERE order_id = ?` → `SELECT … FROM items` when it is long: the lens names the statement, the diagnostic says the rest. */
function shortOperation(op: string, max: number): string {
  if (op.length <= max) return op;
  const where = op.search(/\s+WHERE\s/i);
  return where > 0 ? op.slice(0, where) : op;
}

/**
 * The lens text of a finding: `⚠ N+1: 15× SELECT … FROM items`. Reads the
 * evidence's count (`perRequest`, `count` or `calls`) and operation
 * (`operation`, `query`, `command`, `url` or `name`) when the agent gives them,
 * else the start of the message.
 */
export function findingTitle(f: Finding, max = LENS_TITLE_MAX): string {
  const e = f.evidence ?? {};
  const n = num(e.perRequest) ?? num(e.count) ?? num(e.calls);
  const op = str(e.operation) ?? str(e.query) ?? str(e.command) ?? str(e.url) ?? str(e.name);
  const label = FINDING_LABELS[f.kind] ?? 'Finding';
  const head = `${f.severity === 'warning' ? '⚠' : 'ⓘ'} ${label}: `;
  const body = op ? `${n !== undefined ? `${Math.round(n * 10) / 10}× ` : ''}${shortOperation(op, max - head.length)}` : f.message;
  return plainText(`${head}${body}`, max);
}

/** The Problems-panel message: what was seen, then what to try. */
export function diagnosticMessage(f: Finding, agentLabel?: string): string {
  const seen = f.message.replace(/[.\s]+$/, '');
  const rec = f.recommendation ? ` Try: ${f.recommendation}` : '';
  return plainText(`${seen}.${rec}${agentLabel ? ` (${agentLabel})` : ''}`, 600);
}

/** The findings of an agent grouped by endpoint (endpoints in first-seen order, findings warnings first). */
export function byEndpoint(findings: readonly Finding[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = out.get(f.endpoint);
    if (list) list.push(f);
    else out.set(f.endpoint, [f]);
  }
  for (const list of out.values()) list.sort((a, b) => severityRank(b) - severityRank(a) || b.occurrences - a.occurrences);
  return out;
}

const severityRank = (f: Finding) => (f.severity === 'warning' ? 1 : 0);

export function locationKey(loc: SourceLocation): string {
  return `${loc.file}\u0000${loc.line}\u0000${loc.column}`;
}

/** `routes/orders.js:12` (the last two path segments). */
export function shortLocation(loc: SourceLocation): string {
  return plainText(shortPath(loc), 120);
}
