/**
 * The limiters' counting scripts in Redis, one Lua script per algorithm
 * (atomic: read, count and expire in one round trip: one EVALSHA per request).
 */
import { createHash } from 'node:crypto';
import type { Algorithm } from './algorithms';

/**
 * ARGV[1] = windowMs, ARGV[2] = max, ARGV[3] = points (absent: 1), ARGV[4] = 'peek' to count nothing.
 * Returns {hits, ms} as described in algorithms.ts; a peek returns {what is left now, ms}.
 */
const ARGS_LUA = `
local w = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local p = tonumber(ARGV[3]) or 1
local peek = ARGV[4] == 'peek'
`;

const FIXED_LUA = `${ARGS_LUA}
if peek then
  local v = redis.call('GET', KEYS[1])
  local ttl = redis.call('PTTL', KEYS[1])
  local c = 0
  if v and ttl > 0 then c = tonumber(v) else ttl = 0 end
  local left = math.max(0, max - c)
  if ttl == 0 and left < p then ttl = w end
  return {left, ttl}
end
local c = redis.call('INCRBY', KEYS[1], p)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], w)
  ttl = w
end
return {c, ttl}
`;

const NOW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const SLIDING_LUA = `${ARGS_LUA}${NOW_LUA}
local idx = math.floor(now / w)
local v = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local cw = tonumber(v[1])
local cur = tonumber(v[2]) or 0
local prev = tonumber(v[3]) or 0
local rolled = cw ~= idx
if rolled then
  if cw == idx - 1 then prev = cur else prev = 0 end
  cur = 0
end
local elapsed = now - idx * w
local eff = prev * (w - elapsed) / w + cur
local fits = eff + p <= max + 1e-9
local wait = w - elapsed
if not fits and max >= p then
  wait = -1
  if cur + p <= max and prev > 0 then
    local need = math.ceil(w * (1 - (max - cur - p) / prev)) - elapsed
    if need <= w - elapsed then wait = math.max(1, need) end
  end
  if wait < 0 then
    local nxt = 0
    if cur > 0 then nxt = math.max(0, math.ceil(w * (1 - (max - p) / cur))) end
    wait = w - elapsed + nxt
  end
end
if peek then
  if fits and eff <= 0 then wait = 0 end
  return {math.max(0, math.floor(max - eff + 1e-9)), wait}
end
if fits then cur = cur + p end
if fits or rolled then
  redis.call('HSET', KEYS[1], 'w', idx, 'c', cur, 'p', prev)
  redis.call('PEXPIRE', KEYS[1], 2 * w)
end
if fits then return {max - math.floor(max - eff - p + 1e-9), wait} end
return {max + 1, wait}
`;

const TOKEN_LUA = `${ARGS_LUA}
if max <= 0 then
  if peek then return {0, w} end
  return {1, w}
end
${NOW_LUA}
local rate = max / w
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then
  tokens = max
  ts = now
end
if now > ts then tokens = tokens + (now - ts) * rate end
if tokens > max then tokens = max end
local fits = tokens >= p - 1e-9
if peek then
  local need = max - tokens
  if not fits then need = p - tokens end
  return {math.floor(tokens + 1e-9), math.ceil(need / rate)}
end
local hits
local ms
if fits then
  tokens = math.max(0, tokens - p)
  hits = max - math.floor(tokens + 1e-9)
  ms = math.ceil((max - tokens) / rate)
else
  hits = max + 1
  ms = math.ceil((p - tokens) / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((max - tokens) / rate)))
return {hits, ms}
`;

function script(lua: string): CountScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Each algorithm's script and its SHA-1, the name EVALSHA runs it by. */
export const SCRIPTS: Readonly<Record<Algorithm, CountScript>> = {
  'fixed-window': script(FIXED_LUA),
  'sliding-window': script(SLIDING_LUA),
  'token-bucket': script(TOKEN_LUA),
};

/** A counting script: sent as EVALSHA, and again as EVAL when Redis answers NOSCRIPT (restarted or flushed). */
export interface CountScript {
  readonly lua: string;
  readonly sha: string;
}

/** Redis's answer to an EVALSHA of a script it does not hold: the refused call did not run, so resending it as EVAL counts once. */
export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
