/** Command-line options of the bench tools: `--name value` pairs, whole positive numbers where asked. */
export function readOptions(argv: string[], kinds: Record<string, 'number' | 'string'>, tool: string): Map<string, string | number> {
  const out = new Map<string, string | number>();
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const kind = kinds[k.replace(/^--/, '')];
    if (!k.startsWith('--') || kind === undefined) throw new Error(`unknown option ${k} (see ${tool})`);
    const raw = String(argv[++i]);
    if (kind === 'string') out.set(k.slice(2), raw);
    else {
      const v = Math.floor(Number(raw));
      if (!(v > 0)) throw new Error(`${k} needs a positive number`);
      out.set(k.slice(2), v);
    }
  }
  return out;
}
