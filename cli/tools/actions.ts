/** The actions, each explicit: reset_metrics and profile_route need `confirm: true`; invalidate_cache needs a dry run and its token first. */
import { z } from 'zod';
import type { AgentSource } from '../core/source';
import { CONFIRMATION_TTL_MS } from './confirm';
import { agentOf, fail, ms, ok, percent, str } from './data';
import { matchRoutes } from './routes';
import { where } from './spans';
import { agentArg, defineTool, routeArg } from './types';

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

/** At most this long: an MCP client waits about a minute for an answer. */
const MAX_PROFILE_SECONDS = 30;
/** Beyond the profile's seconds: time for the agent to stop the profiler, keep the route's samples and write the file. */
const PROFILE_MARGIN_MS = 20_000;

export const profileRoute = defineTool({
  name: 'profile_route',
  title: 'Profile a route',
  description:
    "Records a CPU profile of the app for `seconds` (1-30, default 10) and keeps the samples whose stacks pass through one route's handler or middleware: answers where the route's CPU time goes (the top functions by self time with file:line:column, self ms and share in percent), how many samples were taken and kept, the route's requests meanwhile, and the path of the written .cpuprofile (opens in VS Code and Chrome DevTools). The route needs traffic while it runs. It costs a few percent of CPU while it runs and writes a file; call it only when the user asked for a profile, and pass confirm: true.",
  input: z.object({
    route: routeArg,
    seconds: z.number().int().min(1).max(MAX_PROFILE_SECONDS).default(10).describe(`how long to profile, in seconds (1-${MAX_PROFILE_SECONDS})`),
    confirm: z.literal(true).describe('must be true: the user asked for this profile'),
    agent: agentArg,
  }),
  readOnly: false,
  timeoutMs: (args) => args.seconds * 1000 + PROFILE_MARGIN_MS + 5000,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const match = matchRoutes((await source.snapshot()).endpoints, args.route)[0];
    if (!match) return fail('No route matches the one asked for: see slowest_routes or busiest_routes for the endpoint ids.', { agent: agentOf(source), asked: str(args.route) });
    const p = await source.command('profile.start', { endpoint: match.id, seconds: args.seconds }, args.seconds * 1000 + PROFILE_MARGIN_MS);
    const data = {
      agent: agentOf(source),
      route: str(p.endpoint),
      seconds: p.seconds,
      file: str(p.file, 500),
      samples: p.samples,
      keptSamples: p.kept,
      requests: p.requests,
      top: p.top.slice(0, 10).map((f) => ({ function: str(f.functionName || '(anonymous)', 120), location: where(f.location), selfMs: ms(f.selfMs), sharePercent: percent(f.share) })),
    };
    return ok(p.kept ? `Profiled for ${p.seconds} s: ${p.kept} of ${p.samples} samples were in the route (${p.requests} request(s)).` : `Profiled for ${p.seconds} s, but no sample passed through the route (${p.requests} request(s) meanwhile): send it traffic while profiling.`, data);
  },
});
