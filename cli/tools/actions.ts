/** The two write actions, each explicit: reset_metrics needs `confirm: true`; invalidate_cache needs a dry run and its token first. */
import { z } from 'zod';
import type { AgentSource } from '../core/source';
import { CONFIRMATION_TTL_MS } from './confirm';
import { agentOf, fail, ok, str } from './data';
import { agentArg, defineTool } from './types';

export const resetMetrics = defineTool({
  name: 'reset_metrics',
  title: 'Reset metrics',
  description:
    "Erases the app's recorded figures (all endpoints, or one endpoint id such as \"GET /users/:id\"), for example before measuring a change. This cannot be undone; call it only when the user asked for a reset, and pass confirm: true.",
  input: z.object({
    endpoint: z.string().min(1).max(500).optional().describe('only this endpoint id; omit to reset everything'),
    confirm: z.literal(true).describe('must be true: the user asked for this reset'),
    agent: agentArg,
  }),
  readOnly: false,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const r = await source.command('reset', args.endpoint ? { endpoint: args.endpoint } : {});
    return ok(`Reset the figures of ${r.reset} endpoint(s).`, { agent: agentOf(source), endpointsReset: r.reset });
  },
});

type Target = { key: string } | { pattern: string } | { tag: string };

function targetOf(args: { key?: string; pattern?: string; tag?: string }): Target | undefined {
  const given = [args.key !== undefined, args.pattern !== undefined, args.tag !== undefined].filter(Boolean).length;
  if (given !== 1) return undefined;
  return args.key !== undefined ? { key: args.key } : args.pattern !== undefined ? { pattern: args.pattern } : { tag: args.tag! };
}

/** Up to 20 of the keys the invalidation would remove, when they can be listed. */
async function sampleKeys(source: AgentSource, target: Target, wouldRemove: number): Promise<string[] | undefined> {
  if ('key' in target) return wouldRemove > 0 ? [str(target.key)] : [];
  if ('tag' in target) return undefined;
  const { keys } = await source.command('cache.keys', { pattern: target.pattern, limit: 20 });
  return keys.map((k) => str(k.key));
}

export const invalidateCache = defineTool({
  name: 'invalidate_cache',
  title: 'Invalidate cache entries',
  description:
    'Removes entries from the app\'s cache: one key, every key matching a glob pattern ("user:*"), or every key with a tag. Always two calls. The first (no confirmationToken) is a dry run: it removes nothing and answers how many entries would go, some of their keys, and a confirmationToken. Only if the user agrees, call again with exactly the same key/pattern/tag and that confirmationToken to remove them. A token works once, for 2 minutes, for those arguments only.',
  input: z.object({
    key: z.string().min(1).max(1024).optional().describe('one exact cache key'),
    pattern: z.string().min(1).max(256).optional().describe('a glob over keys: * and ? only'),
    tag: z.string().min(1).max(256).optional().describe('every entry stored with this tag'),
    confirmationToken: z.string().min(1).max(100).optional().describe('from the dry run; omit for the dry run'),
    agent: agentArg,
  }),
  readOnly: false,
  async run(ctx, args) {
    const target = targetOf(args);
    if (!target) return fail('Give exactly one of key, pattern or tag.');
    const source = await ctx.source(args.agent);
    if (args.confirmationToken === undefined) {
      const dry = await source.command('cache.invalidate', { ...target, dryRun: true });
      const sample = await sampleKeys(source, target, dry.removed);
      const data = { agent: agentOf(source), dryRun: true, target: Object.fromEntries(Object.entries(target).map(([k, v]) => [k, str(v)])), wouldRemove: dry.removed, ...(dry.partial ? { partial: true } : {}), ...(sample ? { sampleKeys: sample } : {}) };
      if (dry.removed === 0) return ok('Dry run: no cache entry matches, so nothing would be removed. Nothing was removed.', data);
      const token = ctx.confirmations.issue('invalidate_cache', source.identity, target);
      return ok(
        `Dry run: ${dry.removed} cache entr${dry.removed === 1 ? 'y' : 'ies'} would be removed. Nothing was removed. To remove them, call invalidate_cache again with the same arguments and confirmationToken "${token}" (valid ${CONFIRMATION_TTL_MS / 1000} s, once).`,
        { ...data, confirmationToken: token, expiresInSeconds: CONFIRMATION_TTL_MS / 1000 },
      );
    }
    const redeemed = ctx.confirmations.redeem(args.confirmationToken, 'invalidate_cache', source.identity, target);
    if (!redeemed.ok) return fail(`Nothing was removed: ${redeemed.reason}. Run the dry run again (without confirmationToken) to get a new token.`);
    const r = await source.command('cache.invalidate', target);
    return ok(`Removed ${r.removed} cache entr${r.removed === 1 ? 'y' : 'ies'}${r.partial ? ' (the pattern scan stopped at its time limit: run it again for the rest)' : ''}.`, { agent: agentOf(source), removed: r.removed, ...(r.partial ? { partial: true } : {}) });
  },
});
