/**
 * lru-cache's LRUCache, loaded by the first structure that needs one (the first write to a
 * priority's L1, the hot-key counter, the access model): most apps run the agent without writing
 * to its cache, and the module is about 50 kB of the app's heap.
 */
import type { LRUCache } from 'lru-cache';

let loaded: typeof LRUCache | undefined;

export function lruCache(): typeof LRUCache {
  return (loaded ??= (require('lru-cache') as typeof import('lru-cache')).LRUCache);
}
