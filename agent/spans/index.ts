/**
 * Spans: what each traced request spent its time on (docs/spans.md). `startSpans` makes an
 * agent's recorder the process's, has the sampler decide at each request's start whether it is
 * traced (only traced requests enter their request context: context.ts), and installs the span
 * sources that are process-wide (diagnostics channels, the pg wrapper). The Express layer hook is
 * installed by route capture.
 */
import { type TraceDecision, traceRequests } from '../context';
import { predictRoute } from '../express/request';
import type { Diagnostics } from '../log';
import { installChannels } from './channels';
import { layerSpans } from './express';
import { installPg } from './pg';
import { TraceBuffer, setSpanSink, spanSink } from './recorder';
import { type SpanOptions, SpanRecorder } from './store';

export { SpanRecorder, type SpanOptions, type TraceListener } from './store';
export { CALL_SITE, withSpan } from './recorder';

export function startSpans(options: SpanOptions, diag: Diagnostics): SpanRecorder {
  const recorder = new SpanRecorder(options, diag);
  setSpanSink(recorder);
  layerSpans(true);
  traceRequests(decisionOf(recorder));
  try {
    installChannels();
    installPg();
  } catch (err) {
    diag.failure('spans.install', err);
  }
  return recorder;
}

/** The recorder stops receiving spans (another agent's, if any, is not touched). */
export function stopSpans(recorder: SpanRecorder): void {
  if (spanSink() !== recorder) return;
  setSpanSink(undefined);
  layerSpans(false);
  traceRequests(undefined);
}

/**
 * The sampler's decision at a request's start. Its route is told from its method and URL
 * (`predictRoute`: the route index, O(1) in the number of routes), and the route's own sampling
 * decides (`SpanRecorder.admit`); a traced request's buffer is made then. A request whose route
 * cannot be told (no route matches: a 404, a static file, a route capture does not know yet) is
 * traced tentatively, by a sampling of its own shared by all such requests, and its trace is
 * decided by its route's own sampling once the route is known. An untraced request's `trace` is
 * null: no span source records anything for it.
 */
function decisionOf(recorder: SpanRecorder): TraceDecision {
  return (ctx, req) => {
    if (spanSink() !== recorder || ctx.t0 === undefined) return false;
    const route = predictRoute(ctx.method, req);
    const traced = route === undefined ? recorder.admitUnrouted() : recorder.admit(ctx.method, route);
    if (!traced) {
      ctx.trace = null;
      return false;
    }
    const b = new TraceBuffer(recorder, ctx.t0);
    b.decided = route !== undefined;
    ctx.trace = b;
    return true;
  };
}
