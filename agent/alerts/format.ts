/** How alert messages write figures: `850 ms`, `2.4 s`, `12%`, `512 MiB`, targets cut to a readable length. */
import { round, truncate } from '../text';

const MAX_TARGET_IN_MESSAGE = 200;

/** A target (route, limiter name) cut to MAX_TARGET_IN_MESSAGE characters. */
export function short(target: string): string {
  return truncate(target, MAX_TARGET_IN_MESSAGE);
}

/** `850 ms`, `2.4 s`. */
export function ms(value: number): string {
  if (value >= 1000) return `${oneDecimal(value / 1000)} s`;
  return `${value >= 10 ? Math.round(value) : oneDecimal(value)} ms`;
}

/** `12%`, `5.5%`: one decimal under 10% unless whole. */
export function pct(fraction: number): string {
  const percent = fraction * 100;
  return `${percent >= 10 || Number.isInteger(percent) ? Math.round(percent) : percent.toFixed(1)}%`;
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 1048576)} MiB`;
}

/** A figure as alerts carry it: three decimals at most. */
export const round3 = (value: number): number => round(value);

function oneDecimal(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}
