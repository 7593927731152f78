/** Tools that give the whole picture: the agents, the executive summary, and what later versions will add. */
import { z } from 'zod';
import { buildSummary } from '../core/summary';
import { iso, ok, str } from './data';
import { agentArg, defineTool } from './types';

export const listAgents = defineTool({
  name: 'list_agents',
  title: 'List RouteLens agents',
  description:
    'Lists the running Node/Express apps instrumented with RouteLens that this user can read: pid, app name, local API URL, working directory, agent version and start time (ISO 8601). Use the pid or name as the `agent` argument of the other tools when several apps run.',
  input: z.object({}),
  readOnly: true,
  async run(ctx) {
    const agents = await ctx.listAgents();
    const data = { agents: agents.slice(0, 20).map((a) => ({ pid: a.pid, name: str(a.name), url: str(a.url), cwd: str(a.cwd, 300), version: str(a.version, 40), startedAt: iso(a.startedAt) })) };
    return ok(agents.length ? `${agents.length} RouteLens agent(s) running.` : 'No RouteLens agent is running: start the app with the agent (node --import routelens/register app.js).', data);
  },
});

export const healthSummary = defineTool({
  name: 'health_summary',
  title: 'Executive health summary',
  description:
    "Executive summary of one running app's performance, live: status (healthy/degraded/unhealthy), health score 0-100 and its reasons, key metrics (requests, p95 latency in ms over the last 5 minutes, error rate in percent, cache hit rate in percent, Redis state, heap, event-loop delay), firing alerts, the slowest routes with their source location, and up to 5 recommendations derived from the figures. Start here for questions like \"is my app healthy?\" or \"what is slow?\".",
  input: z.object({ agent: agentArg }),
  readOnly: true,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const summary = buildSummary(await source.snapshot());
    return ok(`Health of the app (pid ${summary.agent.pid}): ${summary.status}, score ${summary.score}/100.`, summary);
  },
});

const NOT_YET = 'not available in this RouteLens version';

export const findings = defineTool({
  name: 'findings',
  title: 'Performance findings',
  description:
    'Explains why routes are slow (N+1 queries, blocking work, cache misses) once the agent records findings. This RouteLens version does not record them yet and says so; use route_details and slow_requests meanwhile.',
  input: z.object({
    kind: z.string().max(100).optional().describe('kind of finding to list'),
    route: z.string().max(500).optional().describe('endpoint id such as "GET /users/:id"'),
  }),
  readOnly: true,
  async run() {
    return ok(`Findings are ${NOT_YET}: the agent does not record them yet. Use route_details (figures, windows, source location) and slow_requests instead.`, { available: false });
  },
});

export const compare = defineTool({
  name: 'compare',
  title: 'Compare with a baseline',
  description:
    'Compares live per-route figures with a saved baseline (a file or a git ref) and gives a verdict per route (faster, slower, unchanged), once baselines exist. This RouteLens version cannot save baselines yet and says so; use slowest_routes over the 1m and all windows meanwhile.',
  input: z.object({ baseline: z.string().min(1).max(500).describe('baseline file path or git ref') }),
  readOnly: true,
  async run() {
    return ok(`Comparing with a baseline is ${NOT_YET}: baselines cannot be saved yet. Compare slowest_routes with window "1m" against window "all" instead.`, { available: false });
  },
});
