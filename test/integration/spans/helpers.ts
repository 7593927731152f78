/** What the span tests share: an Express app served on a free port, a local HTTP service, and where a marked line is. */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Span, Trace } from '../../../protocol';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(handler: http.RequestListener): Promise<Served> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A real local HTTP service: `/slow?ms=N` answers after N ms. */
export function slowService(): Promise<Served> {
  return serve((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('ok'), ms);
  });
}

/** The 1-based line of `file` ending in the comment `// <marker>` (exactly once). */
export function lineOf(file: string, marker: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found = lines.flatMap((l, i) => (l.includes(`// ${marker}`) ? [i + 1] : []));
  if (found.length !== 1) throw new Error(`marker ${marker} found ${found.length} times`);
  return found[0]!;
}

export function spansOf(trace: Trace, kind: Span['kind']): Span[] {
  return trace.spans.filter((s) => s.kind === kind);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
