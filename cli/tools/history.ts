/** Did it get slower: the live figures against a baseline (compare), and one route over hours and days (history). See docs/history.md. */
import { z } from 'zod';
import type { BaselineComparison, BaselineDelta, HistoryResolution, Verdict } from '../../protocol';
import type { AgentSource } from '../core/source';
import { agentOf, iso, ms, ok, percent, str } from './data';
import { matchRoutes } from './routes';
import { orUnavailable } from './spans';
import { agentArg, defineTool, limitArg, routeArg } from './types';

const NO_HISTORY = 'not available from this agent: it keeps no history (history: false, ROUTELENS_HISTORY=0, measuring off, or an agent older than history)';

const VERDICT_ORDER: Record<Verdict, number> = { regressed: 0, improved: 1, inconclusive: 2, unchanged: 3 };

function deltaRow(d: BaselineDelta) {
  return {
    route: str(d.endpoint),
    verdict: d.verdict,
    baseP95Ms: ms(d.base),
    liveP95Ms: ms(d.head),
    changePercent: percent(d.change),
    intervalPercent: [percent(d.low), percent(d.high)],
    baseRequests: d.baseCount,
    liveRequests: d.headCount,
  };
}

/** The comparison against `file` (or the default branch), leaving the agent's own choice as it was. */
async function compareWith(source: AgentSource, file: string | undefined): Promise<{ comparison: BaselineComparison; switched: boolean; restored: boolean } | undefined> {
  const current = await orUnavailable(source.command('baseline.compare', {}));
  if (!current) return undefined;
  const wanted = file === undefined ? current.source === 'branch' : current.source === 'file' && current.name === file;
  if (wanted) return { comparison: current, switched: false, restored: true };
  const comparison = await source.command('baseline.set', file === undefined ? {} : { file });
  // baseline.set is remembered by the agent (and shown by the editor): put the previous choice back.
  const restored = await source.command('baseline.set', current.source === 'file' ? { file: current.name } : {}).then(
    () => true,
    () => false,
  );
  return { comparison, switched: true, restored };
}

export const compare = defineTool({
  name: 'compare',
  title: 'Compare with a baseline',
  description:
    "Did the app get slower? Compares each route's live p95 (this run's last 15 minutes at most) with a baseline: by default the repository's default branch's figures of the last 7 days before this run, or a saved baseline file (`routelens baseline --out perf/baseline.json`, path relative to the app's directory). Per route: verdict (regressed, improved, unchanged, inconclusive), baseline and live p95 (ms), change and its 95 % interval (percent), requests on each side. Regressed or improved only when the whole interval is beyond ±10 %; inconclusive when either side has under 50 requests or the interval straddles ±10 %: too little data or too noisy to tell, not a pass. Regressed routes first.",
  input: z.object({
    file: z.string().min(1).max(500).optional().describe("a saved baseline file inside the app's directory; omit for the default branch's recent figures"),
    route: z.string().min(1).max(500).optional().describe('only this endpoint id ("GET /users/:id"), template or part of an id'),
    limit: limitArg(50, 20),
    agent: agentArg,
  }),
  readOnly: true,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const r = await compareWith(source, args.file);
    if (!r) return ok(`Comparing with a baseline is ${NO_HISTORY}.`, { agent: agentOf(source), available: false });
    const { comparison: c } = r;
    const q = args.route?.toLowerCase();
    const rows = c.endpoints.filter((d) => !q || d.endpoint.toLowerCase().includes(q)).sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || Math.abs(b.change) - Math.abs(a.change));
    const counts = Object.fromEntries((['regressed', 'improved', 'unchanged', 'inconclusive'] as const).map((v) => [v, rows.filter((d) => d.verdict === v).length]));
    const against = c.source === 'file' ? 'the saved baseline file' : 'the default branch';
    const data = {
      agent: agentOf(source),
      baseline: { source: c.source, name: str(c.name, 300) },
      ...(r.switched ? { note: r.restored ? "the agent's own baseline choice was switched for this comparison and put back" : "the agent's previous baseline could not be chosen again (its file is no longer readable): the agent now compares with this one" } : {}),
      verdicts: counts,
      routes: rows.slice(0, args.limit).map(deltaRow),
    };
    if (!rows.length) return ok(`No route to compare against ${against}: neither side has figures${args.route ? ' for that route' : ''} yet.`, data);
    const title = `Against ${against}: ${counts.regressed} regressed, ${counts.improved} improved, ${counts.unchanged} unchanged, ${counts.inconclusive} inconclusive.`;
    return ok(counts.inconclusive ? `${title} Inconclusive means too few requests (under 50 on a side) or too noisy to tell, not "unchanged".` : title, data);
  },
});

/** At most this many points in one answer (the newest are kept). */
const MAX_POINTS = 150;
const PERIOD_SECONDS: Record<HistoryResolution, number> = { minute: 60, hour: 3600, day: 86_400 };

export const history = defineTool({
  name: 'history',
  title: 'Route history',
  description:
    "One route's latency and traffic over hours or days, surviving restarts: per period (minute, hour or day) the start time (ISO 8601), requests, errors, p50/p95/p99 (ms), requests per second, and the commit it ran under; plus markers where the measured commit changed (commit, branch, dirty working tree). Use it to see when a route got slower and which commit it coincides with. Periods without requests are left out.",
  input: z.object({
    route: routeArg,
    hours: z.number().min(1).max(24 * 90).default(24).describe('how far back, in hours (1 to 2160); default 24'),
    resolution: z.enum(['minute', 'hour', 'day']).optional().describe('period of each point; default: minutes up to 2 hours, hours up to 6 days, days beyond'),
    agent: agentArg,
  }),
  readOnly: true,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const match = matchRoutes((await source.snapshot()).endpoints, args.route)[0];
    const endpoint = match?.id ?? args.route;
    const to = Date.now();
    const resolution: HistoryResolution = args.resolution ?? (args.hours <= 2 ? 'minute' : args.hours <= 144 ? 'hour' : 'day');
    const h = await orUnavailable(source.command('history.get', { endpoint, from: to - args.hours * 3_600_000, to, resolution }));
    if (!h) return ok(`History is ${NO_HISTORY}.`, { agent: agentOf(source), available: false });
    const points = h.points.slice(-MAX_POINTS).map((p) => ({
      at: iso(p.t),
      requests: p.count,
      errors: p.errors,
      p50Ms: p.p50 === undefined ? null : ms(p.p50),
      p95Ms: p.p95 === undefined ? null : ms(p.p95),
      p99Ms: p.p99 === undefined ? null : ms(p.p99),
      requestsPerSecond: Math.round((p.count / PERIOD_SECONDS[h.resolution]) * 1000) / 1000,
      commit: p.git ? str(p.git.commit.slice(0, 12), 12) : null,
    }));
    const data = {
      agent: agentOf(source),
      route: str(h.endpoint),
      resolution: h.resolution,
      from: iso(h.from),
      to: iso(h.to),
      ...(h.points.length > MAX_POINTS ? { omittedOlderPoints: h.points.length - MAX_POINTS } : {}),
      points,
      commits: h.commits.slice(-20).map((c) => ({ at: iso(c.t), commit: str(c.commit.slice(0, 12), 12), branch: str(c.branch, 100), dirty: c.dirty })),
    };
    return ok(h.points.length ? `${h.points.length} ${h.resolution} point(s) with requests over the last ${args.hours} hour(s), ${h.commits.length} commit change(s).` : `No requests recorded for that route over the last ${args.hours} hour(s).`, data);
  },
});
