/** Tools that give the whole picture: the agents, the executive summary, the findings. */
import { z } from 'zod';
import { buildSummary } from '../core/summary';
import { FINDING_KINDS, type Finding } from '../../protocol';
import { agentOf, iso, ok, str } from './data';
import { NOT_RECORDED, findingRow, orUnavailable, rankFindings } from './spans';
import { agentArg, defineTool, limitArg } from './types';

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

export const findings = defineTool({
  name: 'findings',
  title: 'Performance findings',
  description:
    'Why routes are slow, pinned to a line of the app\'s code: the findings the agent drew from its traced requests (N+1 queries or calls, slow queries, sequential awaits that could run together, event-loop blocking, cache opportunities, low cache hit rates). Each: kind, severity (warning/info), route, message with numbers, recommendation, location (file:line:column), evidence (counts, ms, shares), example request ids (X-Request-Id), occurrences, first/last seen (ISO 8601). Warnings first, then the most frequent. Filter by kind or route (endpoint id "GET /orders/:id", template "/orders/:id" or part of it).',
  input: z.object({
    kind: z.enum(FINDING_KINDS).optional().describe('only findings of this kind'),
    route: z.string().min(1).max(500).optional().describe('only this endpoint id ("GET /users/:id"), route template ("/users/:id") or part of an id; "cache:<namespace>" for a cache'),
    limit: limitArg(50, 10),
    agent: agentArg,
  }),
  readOnly: true,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const answer = await orUnavailable(source.command('findings.list', {}));
    if (!answer) return ok(`Findings are ${NOT_RECORDED}. Use route_details and slow_requests instead.`, { agent: agentOf(source), available: false });
    const ofKind = answer.findings.filter((f) => !args.kind || f.kind === args.kind);
    const list = rankFindings(args.route ? byRoute(ofKind, args.route) : ofKind);
    // With spans off the engine still judges the cache, but sees no request: say so.
    const spans = (await orUnavailable(source.command('traces.list', { endpoint: 'GET /', limit: 1 }))) !== undefined;
    const data = { agent: agentOf(source), spansRecorded: spans, total: answer.findings.length, matching: list.length, findings: list.slice(0, args.limit).map(findingRow) };
    const caveat = spans ? '' : ` Request findings are ${NOT_RECORDED}; only cache findings can appear.`;
    if (!list.length) return ok(`${answer.findings.length ? `None of the agent's ${answer.findings.length} finding(s) matches.` : 'The agent has no findings: nothing it detects was seen (findings are dropped after an hour unseen).'}${caveat}`, data);
    return ok(`${Math.min(list.length, args.limit)} of ${list.length} finding(s), warnings first.${caveat}`, data);
  },
});

/** As route_details matches: the exact endpoint id, else the template under any method, else ids containing the text. */
function byRoute(list: Finding[], query: string): Finding[] {
  const exact = list.filter((f) => f.endpoint === query);
  if (exact.length) return exact;
  const template = list.filter((f) => f.endpoint.slice(f.endpoint.indexOf(' ') + 1) === query);
  if (template.length) return template;
  return list.filter((f) => f.endpoint.toLowerCase().includes(query.toLowerCase()));
}
