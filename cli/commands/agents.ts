/** `routelens agents`: the running agents this user can read. */
import { AGENT_OPTIONS, type Command, stringOption } from '../command';
import { createCliContext } from '../core/context';
import { str } from '../tools/data';
import { resolveDiscoveryDir } from '../../extension/core/discovery';

export const agents: Command = {
  name: 'agents',
  summary: 'list the running agents (pid, name, url, cwd)',
  help: [
    'Usage: routelens agents [--json] [--discovery-dir <dir>]',
    '',
    'Lists the running apps instrumented with RouteLens whose discovery files you own.',
    'Exit code 1 when none is running.',
    '',
    '  --json                  one JSON array instead of a table',
    '  --discovery-dir <dir>   where agents write their discovery files',
  ].join('\n'),
  options: { json: { type: 'boolean' }, 'discovery-dir': AGENT_OPTIONS['discovery-dir'] },
  async run(values, _positionals, io) {
    const dir = stringOption(values, 'discovery-dir');
    const list = await createCliContext({ dir, env: io.env }).listAgents();
    if (values.json) {
      io.out(`${JSON.stringify(list.map((a) => ({ ...a, startedAt: new Date(a.startedAt).toISOString() })), null, 2)}\n`);
      return list.length ? 0 : 1;
    }
    if (!list.length) {
      io.err(`No RouteLens agent is running (looked in ${resolveDiscoveryDir(dir, io.env)}).\n`);
      return 1;
    }
    // App-controlled text on a terminal: control characters (escape sequences) removed, one line each.
    const rows = [['PID', 'NAME', 'URL', 'CWD'], ...list.map((a) => [String(a.pid), str(a.name), a.url, str(a.cwd, 300)])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    io.out(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n');
    return 0;
  },
};
