/** Runs `fn` at most once per `ms` (trailing call guaranteed). Timer cleared by dispose(). */
export function throttle(fn: () => void, ms: number): { (): void; dispose(): void } {
  let last = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  const t = (() => {
    if (timer) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  }) as { (): void; dispose(): void };
  t.dispose = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return t;
}
