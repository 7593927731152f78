/**
 * `app.get('/health', agent.healthHandler())`: the agent's health for load
 * balancers and orchestrators. Unauthenticated, so it says only what such a
 * caller needs: the status, the score and the codes of the alert rules behind
 * it (`route-p95`, `error-rate`, …), never a route, a key or a message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlertRule, HealthReport, Severity } from '../protocol';
import type { Middleware, Next } from './api-types';
import { invalidOption } from './errors';

export interface HealthHandlerOptions {
  /** Status answered when healthy. Default 200. */
  healthyStatus?: number;
  /** Status answered when degraded. Default 200 (still serving). */
  degradedStatus?: number;
  /** Status answered when unhealthy. Default 503. */
  unhealthyStatus?: number;
}

/** What the handler reads on each call. */
export interface HealthSource {
  health(): HealthReport;
  firing(): ReadonlyArray<{ rule: AlertRule; severity: Severity }>;
}

/** The body of a health answer. */
export interface HealthBody {
  status: HealthReport['status'];
  score: number;
  /** The rules of the firing alerts, most severe first, each once. */
  reasons: AlertRule[];
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function healthBody(source: HealthSource): HealthBody {
  const { status, score } = source.health();
  const rules: AlertRule[] = [];
  for (const a of [...source.firing()].sort((x, y) => SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity])) {
    if (!rules.includes(a.rule)) rules.push(a.rule);
  }
  return { status, score, reasons: rules };
}

export function createHealthHandler(source: HealthSource, options: HealthHandlerOptions = {}): Middleware {
  if (options === null || typeof options !== 'object') throw invalidOption('healthHandler', 'an object', options);
  const statusOf = (name: keyof HealthHandlerOptions, fallback: number): number => {
    const v = options[name] ?? fallback;
    if (!Number.isInteger(v) || v < 200 || v > 599) throw invalidOption(name, 'an HTTP status from 200 to 599', v);
    return v;
  };
  const codes: Record<HealthReport['status'], number> = {
    healthy: statusOf('healthyStatus', 200),
    degraded: statusOf('degradedStatus', 200),
    unhealthy: statusOf('unhealthyStatus', 503),
  };
  return function routelensHealth(req: IncomingMessage, res: ServerResponse, next: Next): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let body: HealthBody;
    try {
      body = healthBody(source);
    } catch (err) {
      return next(err);
    }
    const text = JSON.stringify(body);
    res.statusCode = codes[body.status];
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}
