/** The section-1 request mix, shared by the benches. */
import { type PlannedRequest, buildRequest } from './client';

export const USERS = 'users';

/** 80% `/users/:id` over 5,000 distinct ids; the rest: /health, a mounted router (list and item), a 404. */
export function mixedPlan(port: number): PlannedRequest[] {
  const plan: PlannedRequest[] = [];
  const others = ['/health', '/api/orders', '/api/orders/ORDER', '/missing/ORDER'];
  for (let i = 0; i < 5000; i++) {
    const id = (i * 7919) % 5000; // a permutation: every id once, not in order
    plan.push(buildRequest('GET', `/users/${id + 1}`, port, USERS));
    if (i % 4 === 3) plan.push(buildRequest('GET', others[(i >> 2) % others.length]!.replace('ORDER', String(i)), port, 'other'));
  }
  return plan;
}
