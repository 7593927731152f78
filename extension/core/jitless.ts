/**
 * Imported first by extension.ts: turns off zod's JIT, which compiles
 * validators with `new Function`. The extension then never generates code at
 * run time (no eval / new Function), at a small parsing cost
 * on messages that are validated once at the boundary anyway.
 */
import { z } from 'zod';

z.config({ jitless: true });

export const JITLESS = true;
