/**
 * The demo's command line, parsed in one place: `npm run demo -- --help`
 * answers before the build starts, and a typo is reported before it too.
 */
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run demo -- [options]

Runs the demo Express app with the RouteLens agent, and synthetic traffic.

Options:
  --port N          port of the demo app (default 3000, or $PORT; 0 = any free port).
                    If the port is taken, a free one is used and printed.
  --no-traffic      no synthetic traffic: send your own requests
  --rate N          synthetic requests per second (default 20)
  --duration S      how long the synthetic traffic runs, in seconds (default 600)
  -h, --help        this text

Environment: ROUTELENS_REDIS_URL=redis://… puts the cache's L2 and the rate limiter in Redis;
ROUTELENS_DISABLED=1 runs the app without the agent; DEMO_EXTRA_MS_USERS=N makes GET /users/:id
N ms slower (a planted regression to compare against a baseline).`;

/**
 * @param {string[]} argv
 * @returns {{ help: true } | { help: false, port: number, traffic: boolean, rate: number, duration: number }}
 * @throws {Error} with a message for the user when an option is unknown or a value is not a number
 */
export function parseDemoArgs(argv, env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: env.PORT ?? '3000' },
      traffic: { type: 'boolean', default: true },
      'no-traffic': { type: 'boolean', default: false },
      duration: { type: 'string', default: '600' },
      rate: { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  const number = (name, min, max) => {
    const v = Number(values[name]);
    if (!/^\d+(\.\d+)?$/.test(values[name]) || v < min || v > max) throw new Error(`--${name} takes a number from ${min} to ${max}, got ${JSON.stringify(values[name])}`);
    return v;
  };
  return {
    help: false,
    port: number('port', 0, 65535),
    traffic: values.traffic && !values['no-traffic'],
    rate: number('rate', 0.1, 10_000),
    duration: number('duration', 1, 86_400),
  };
}

/** Parses argv, or prints what is wrong (or the usage) and exits. */
export function demoArgsOrExit(argv) {
  try {
    const args = parseDemoArgs(argv);
    if (args.help) {
      console.log(USAGE);
      process.exit(0);
    }
    return args;
  } catch (err) {
    console.error(`demo: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
}
