/**
 * One WebSocket client on the agent's `/v1/stream`, consuming snapshots and
 * deltas as the VS Code extension would (parses every frame). Also sends the
 * `reset` command so measured figures start after warm-up.
 */
import WebSocket from 'ws';
import { HTTP_PATHS } from '../../protocol/http';
import type { AgentMessage } from '../../protocol/messages';

export interface StreamClient {
  counts: { snapshot: number; delta: number; reply: number; bytes: number };
  /** Runs a command; resolves with ok=false (never rejects) on an error reply or after 3 s. */
  command(command: string, args?: unknown): Promise<{ ok: boolean; error?: string }>;
  close(): void;
}

export async function connectStream(port: number, token: string): Promise<StreamClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${HTTP_PATHS.stream}`, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`stream refused: HTTP ${res.statusCode}`)));
  });
  const counts = { snapshot: 0, delta: 0, reply: 0, bytes: 0 };
  const pending = new Map<number, (r: { ok: boolean; error?: string }) => void>();
  let nextId = 1;
  ws.on('error', () => {});
  ws.on('message', (data: Buffer) => {
    counts.bytes += data.length;
    const msg = JSON.parse(data.toString('utf8')) as AgentMessage;
    switch (msg.type) {
      case 'snapshot':
        counts.snapshot++;
        break;
      case 'delta':
        counts.delta++;
        break;
      case 'reply': {
        counts.reply++;
        const cb = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
        if (cb) {
          pending.delete(msg.id as number);
          cb(msg.ok ? { ok: true } : { ok: false, error: `${msg.error.code}: ${msg.error.message}` });
        }
        break;
      }
      default:
        break; // a newer agent may add message types; the bench only counts these
    }
  });
  return {
    counts,
    command(command, args) {
      const id = nextId++;
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          pending.delete(id);
          resolve({ ok: false, error: 'no reply within 3 s' });
        }, 3000);
        pending.set(id, (r) => {
          clearTimeout(t);
          resolve(r);
        });
        ws.send(JSON.stringify({ type: 'command', id, command, ...(args === undefined ? {} : { args }) }));
      });
    },
    close() {
      ws.close();
    },
  };
}
