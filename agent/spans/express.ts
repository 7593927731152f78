/**
 * Middleware and route-handler spans, from one hook on Express's Layer (`handle_request` in
 * Express 4, `handleRequest` in Express 5's router): while an agent records spans, a layer that
 * runs a user function in a traced request gets a span from its call to its `next()` (for a
 * handler that answers, to the response's end). Route layers and mounted routers are skipped
 * (their inner layers get the spans), and so are error handlers and the measuring middleware.
 * The user's functions are never wrapped: the hook only passes a `next` of its own.
 *
 * A function marked with SPAN_KIND (the agent's rate limiters) gets a span of that kind whose
 * own Redis round trips are not recorded; its `next()` continues in the request's context.
 */
import type { SpanKind } from '../../protocol';
import { requestContext } from '../context';
import { AT_ENTRY } from '../express/request';
import { endSpan, outOfSpan, spanSink, startSpan } from './recorder';

/** Marks a middleware function with the kind (and name) of its spans. */
export const SPAN_KIND = Symbol.for('routelens.spans.kind');

const HOOKED = Symbol.for('routelens.spans.layer');

type Next = (err?: unknown) => void;
type HandleFn = ((req: unknown, res: unknown, next: Next) => unknown) & { [SPAN_KIND]?: { kind: SpanKind; name: string }; [AT_ENTRY]?: unknown; stack?: unknown };
interface LayerLike {
  handle?: HandleFn;
  route?: unknown;
  method?: unknown;
  name?: string;
}
type Handle = (this: LayerLike, req: unknown, res: unknown, next: Next) => unknown;

/** Layer prototypes known (from route capture), hooked only while an agent records spans. */
const protos: Array<Record<string | symbol, unknown>> = [];
let enabled = false;

/**
 * Called by route capture when it patches a module: the Layer prototype is hooked while an agent
 * records spans (so without spans no frame of ours is in the app's stacks). Idempotent.
 */
export function hookLayers(layerProto: Record<string | symbol, unknown>): void {
  if (protos.includes(layerProto)) return;
  protos.push(layerProto);
  if (enabled) hook(layerProto);
}

/** Hooks (true) or restores (false) every known Layer prototype. */
export function layerSpans(on: boolean): void {
  enabled = on;
  for (const proto of protos) {
    if (on) hook(proto);
    else unhook(proto);
  }
}

const ORIGINAL = Symbol.for('routelens.spans.layer.original');

function unhook(layerProto: Record<string | symbol, unknown>): void {
  for (const name of ['handleRequest', 'handle_request']) {
    const fn = layerProto[name] as { [ORIGINAL]?: unknown } | undefined;
    if (typeof fn === 'function' && fn[ORIGINAL] !== undefined) layerProto[name] = fn[ORIGINAL];
  }
}

function hook(layerProto: Record<string | symbol, unknown>): void {
  const name = typeof layerProto.handleRequest === 'function' ? 'handleRequest' : 'handle_request';
  const orig = layerProto[name] as (Handle & { [HOOKED]?: true }) | undefined;
  if (typeof orig !== 'function' || orig[HOOKED] === true) return;
  const hooked = function handleRequest(this: LayerLike, req: unknown, res: unknown, next: Next) {
    if (spanSink() === undefined || requestContext.getStore() === undefined) return orig.call(this, req, res, next);
    return layerSpan(this, orig, req, res, next);
  };
  Object.defineProperty(hooked, HOOKED, { value: true });
  Object.defineProperty(hooked, ORIGINAL, { value: orig });
  Object.defineProperty(hooked, 'length', { value: orig.length });
  layerProto[name] = hooked;
}

function layerSpan(layer: LayerLike, orig: Handle, req: unknown, res: unknown, next: Next): unknown {
  const fn = layer.handle;
  if (typeof fn !== 'function' || layer.route !== undefined || fn.length > 3 || fn[AT_ENTRY] !== undefined || typeof fn.stack === 'object') return orig.call(layer, req, res, next);
  const marked = fn[SPAN_KIND];
  const kind: SpanKind = marked?.kind ?? (isHandler(layer, req) ? 'handler' : 'middleware');
  const open = startSpan(kind, marked?.name ?? (fn.name || (kind === 'handler' ? '(handler)' : '(anonymous)')), 'express', undefined, fn);
  if (open === undefined) return orig.call(layer, req, res, next);
  const quiet = marked !== undefined;
  const done: Next = function (this: unknown, err?: unknown) {
    endSpan(open, err !== undefined && err !== 'route' && err !== 'router');
    // eslint-disable-next-line prefer-rest-params -- Express's next takes what it is given
    const args = arguments;
    return quiet ? outOfSpan(() => next.apply(this, args as never)) : next.apply(this, args as never);
  };
  if (!quiet) return orig.call(layer, req, res, done);
  const parent = requestContext.getStore()!;
  const child = Object.create(parent) as typeof parent;
  child.spanParent = open.index;
  child.quiet = true;
  return requestContext.run(child, () => orig.call(layer, req, res, done));
}

/** The last function of the matched route: the route's handler, not route-level middleware. */
function isHandler(layer: LayerLike, req: unknown): boolean {
  if (layer.method === undefined) return false;
  const route = (req as { route?: { stack?: unknown[] } }).route;
  const stack = route?.stack;
  return Array.isArray(stack) && stack[stack.length - 1] === layer;
}
