/**
 * Spans: what each traced request spent its time on (docs/spans.md). `startSpans` makes an
 * agent's recorder the process's, switches request contexts on for every request (spans need
 * them from the first), and installs the span sources that are process-wide (diagnostics
 * channels, the pg wrapper). The Express layer hook is installed by route capture.
 */
import { enterAlways } from '../context';
import type { Diagnostics } from '../log';
import { installChannels } from './channels';
import { layerSpans } from './express';
import { installPg } from './pg';
import { setSpanSink, spanSink } from './recorder';
import { type SpanOptions, SpanRecorder } from './store';

export { SpanRecorder, type SpanOptions, type TraceListener } from './store';
export { CALL_SITE, withSpan } from './recorder';

export function startSpans(options: SpanOptions, diag: Diagnostics): SpanRecorder {
  const recorder = new SpanRecorder(options, diag);
  setSpanSink(recorder);
  layerSpans(true);
  enterAlways();
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
}
