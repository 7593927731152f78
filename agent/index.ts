/**
 * RouteLens agent: `require('routelens/agent')` / `import … from 'routelens/agent'`.
 *
 *   const { createAgent } = require('routelens/agent');
 *   const agent = createAgent();          // before the app is created
 *   app.use(agent.middleware());          // measured from the app's entry
 *
 * Public types are exported here; internal contracts live in agent/internal.ts.
 */
import { Agent } from './agent';
import type { AgentOptions } from './options';

export { Agent, VERSION } from './agent';
export type { AgentEvents } from './agent';
export type { AgentOptions } from './options';
export { RouteLensError, AGENT_ERROR_CODES } from './errors';
export type { AgentErrorCode } from './errors';
export type { Logger } from './log';
export { createCache } from './cache';
export type { Cache, CacheOptions } from './cache';
export type { ResponseCacheOptions } from './cache/response';
export type { HealthBody, HealthHandlerOptions } from './health-endpoint';
export type { SlowLogOptions } from './slowlog-file';
export type { AppRequest, AppResponse, Middleware, Next, RedisClient } from './api-types';
export type { RateLimitMiddleware, RateLimitOptions, RateLimitResult } from './ratelimit';
export type * from '../protocol/types';

/** Creates an agent: measures requests, serves the local stream, owns the cache and rate limiters. */
export function createAgent(options?: AgentOptions): Agent {
  return new Agent(options);
}
