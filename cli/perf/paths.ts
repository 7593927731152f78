/**
 * The concrete paths the app's agent recorded from real traffic (its history, under the app's
 * working directory or ROUTELENS_HISTORY_DIR) for the routes that need them, and the plan that
 * uses them. Read from the started app's agent with `history.get`; an agent that keeps no
 * history (ROUTELENS_HISTORY=0) or answers nothing usable simply gives none.
 */
import { cleanPath } from '../../agent/history/paths';
import type { AgentHttp } from '../core/http';
import { AgentHttpError } from '../core/http';
import { type Plan, type Scenario, planRoutes, routesNeedingPaths } from './scenario';

/** Per route id, the recorded paths, newest seen first. */
export async function historyPaths(http: AgentHttp, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const now = Date.now();
  for (const id of ids) {
    let answer: { paths?: unknown };
    try {
      answer = await http.command('history.get', { endpoint: id, from: now, to: now, resolution: 'day' });
    } catch (err) {
      if (err instanceof AgentHttpError && err.code === 'ERR_UNAVAILABLE') break; // no history kept at all
      continue;
    }
    // What the agent says is checked like any input: plain paths only.
    const paths = Array.isArray(answer.paths) ? answer.paths.filter((p): p is string => typeof p === 'string' && cleanPath(p) === p) : [];
    if (paths.length) out.set(id, paths);
  }
  return out;
}

/** The plan of a started app: its routes from a snapshot, paths from the scenario, its history, its slow-request log. */
export async function planApp(http: AgentHttp, scenario: Scenario | undefined, scenarioFile?: string): Promise<Plan> {
  const snapshot = await http.snapshot();
  const recorded = await historyPaths(http, routesNeedingPaths(snapshot, scenario));
  return planRoutes(snapshot, scenario, scenarioFile, recorded);
}
