/**
 * Confirmation tokens for destructive tool calls: issued by a dry run, bound
 * to the exact arguments and the agent instance, valid for a short time, good
 * for one use. A token presented with other arguments, to another agent or
 * after its time is refused (and spent).
 */
import { randomBytes } from 'node:crypto';

export const CONFIRMATION_TTL_MS = 120_000;
/** More outstanding tokens than this: the oldest are forgotten. */
const MAX_TOKENS = 64;

interface Issued {
  binding: string;
  expiresAt: number;
}

export type Redeemed = { ok: true } | { ok: false; reason: string };

export class ConfirmationTokens {
  private readonly tokens = new Map<string, Issued>();

  constructor(
    private readonly ttlMs = CONFIRMATION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  issue(action: string, agentIdentity: string, args: unknown): string {
    this.prune();
    const token = randomBytes(12).toString('base64url');
    this.tokens.set(token, { binding: bind(action, agentIdentity, args), expiresAt: this.now() + this.ttlMs });
    while (this.tokens.size > MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    return token;
  }

  /** Spends the token; ok only when it was issued for exactly this action, agent and arguments, and has not expired. */
  redeem(token: string, action: string, agentIdentity: string, args: unknown): Redeemed {
    const issued = this.tokens.get(token);
    this.tokens.delete(token);
    if (!issued) return { ok: false, reason: 'unknown or already used confirmation token' };
    if (issued.expiresAt < this.now()) return { ok: false, reason: `the confirmation token expired (tokens last ${Math.round(this.ttlMs / 1000)} s)` };
    if (issued.binding !== bind(action, agentIdentity, args)) return { ok: false, reason: 'the confirmation token was issued for other arguments or another agent' };
    return { ok: true };
  }

  get size(): number {
    return this.tokens.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [t, i] of this.tokens) if (i.expiresAt < now) this.tokens.delete(t);
  }
}

/** Arguments in a canonical form: keys sorted, undefined dropped. */
function bind(action: string, agentIdentity: string, args: unknown): string {
  return JSON.stringify([action, agentIdentity, canonical(args)]);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}
