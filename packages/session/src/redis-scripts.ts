/**
 * Internal: the Lua scripts of {@link RedisSessionStore} (registered with ioredis `defineCommand`, so they run as
 * EVALSHA and ioredis falls back to EVAL when the server has not cached them). Not exported from `index.ts`.
 *
 * Every script is atomic (Redis runs one script at a time) and reads the clock from the server (`TIME`), so
 * `created_at`/`updated_at`/`expires_at` and the expiry Redis applies come from one clock, whichever runner
 * process made the call. Numbers go back to Redis through `int()` (`%.0f`): Lua's default number formatting
 * (`%.14g`) would turn a large expiry into `9.0071992547409e+15`, which PEXPIREAT rejects.
 *
 * Keys (see the README): `S` = session hash, `W` = wait hash, `I` = the scope's wait index (sorted set of wait
 * ids scored by expiry, `+inf` for none). A session hash holds `rev`, `data`, `ctime`, `mtime`, `exp?` and one
 * field `w:<wait id>` per wait parked on it (the reverse index `remove` uses). A wait hash holds `key`, `scope`,
 * `ctime`, `exp?`. The session and wait keys of one scope share a hash tag, so each script touches one slot.
 */

/** Helpers prepended to every script. */
const PRELUDE = `
local function int(x) return string.format('%.0f', x) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The index lives exactly as long as its longest-lived entry: no TTL while an entry has none.
local function fix_index_ttl(idx)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] == nil then return end
  if top[2] == 'inf' then redis.call('PERSIST', idx) else redis.call('PEXPIREAT', idx, top[2]) end
end
`;

const script = (body: string): string => PRELUDE + body;

export interface ScriptDef {
  numberOfKeys: number;
  lua: string;
}

/**
 * create: KEYS[1]=S; ARGV: data, ttlMs (0 = none).
 * Writes revision 1 unless the key exists (the hash equivalent of `SET NX`). Returns the server time, or nil
 * when the key was taken.
 */
export const CREATE: ScriptDef = {
  numberOfKeys: 1,
  lua: script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local t = now_ms()
local now = int(t)
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  local exp = int(t + ttl)
  redis.call('HSET', KEYS[1], 'rev', '1', 'data', ARGV[1], 'ctime', now, 'mtime', now, 'exp', exp)
  redis.call('PEXPIREAT', KEYS[1], exp)
else
  redis.call('HSET', KEYS[1], 'rev', '1', 'data', ARGV[1], 'ctime', now, 'mtime', now)
end
return now
`),
};

/**
 * save (compare-and-swap): KEYS[1]=S; ARGV: expected revision, data, ttl ('' keep, '0' clear, n ms).
 * Returns {'missing'}, {'conflict', current revision} or {'ok', revision, ctime, mtime, exp or ''}.
 */
export const SAVE: ScriptDef = {
  numberOfKeys: 1,
  lua: script(`
local cur = redis.call('HMGET', KEYS[1], 'rev', 'ctime', 'exp')
if not cur[1] then return {'missing'} end
if cur[1] ~= ARGV[1] then return {'conflict', cur[1]} end
local now = now_ms()
local rev = int(tonumber(cur[1]) + 1)
redis.call('HSET', KEYS[1], 'rev', rev, 'data', ARGV[2], 'mtime', int(now))
local exp = cur[3] or ''
if ARGV[3] == '0' then
  if exp ~= '' then
    redis.call('HDEL', KEYS[1], 'exp')
    redis.call('PERSIST', KEYS[1])
  end
  exp = ''
elseif ARGV[3] ~= '' then
  exp = int(now + tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'exp', exp)
  redis.call('PEXPIREAT', KEYS[1], exp)
end
return {'ok', rev, cur[2], int(now), exp}
`),
};

/**
 * remove: KEYS[1]=S, KEYS[2]=I; ARGV: wait-key prefix, session key.
 * Deletes the session and every wait of the scope still pointing at it. Returns 1 when the session existed.
 */
export const REMOVE: ScriptDef = {
  numberOfKeys: 2,
  lua: script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 2) == 'w:' then
    local id = string.sub(field, 3)
    local wait = ARGV[1] .. id
    if redis.call('HGET', wait, 'key') == ARGV[2] then
      redis.call('DEL', wait)
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
redis.call('DEL', KEYS[1])
fix_index_ttl(KEYS[2])
return 1
`),
};

/**
 * registerWait: KEYS[1]=S, KEYS[2]=W, KEYS[3]=I; ARGV: wait id, session key, ttlMs (0 = none), reply scope JSON,
 * session-key prefix. Replaces any wait on the same reply scope. Returns nil when the session does not exist,
 * else {created_at, expires_at or ''}.
 */
export const REGISTER_WAIT: ScriptDef = {
  numberOfKeys: 3,
  lua: script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local t = now_ms()
local now = int(t)
local previous = redis.call('HGET', KEYS[2], 'key')
if previous and previous ~= ARGV[2] then redis.call('HDEL', ARGV[5] .. previous, 'w:' .. ARGV[1]) end
redis.call('DEL', KEYS[2])
local ttl = tonumber(ARGV[3])
local exp = ''
if ttl > 0 then
  exp = int(t + ttl)
  redis.call('HSET', KEYS[2], 'key', ARGV[2], 'scope', ARGV[4], 'ctime', now, 'exp', exp)
  redis.call('PEXPIREAT', KEYS[2], exp)
  redis.call('ZADD', KEYS[3], exp, ARGV[1])
else
  redis.call('HSET', KEYS[2], 'key', ARGV[2], 'scope', ARGV[4], 'ctime', now)
  redis.call('ZADD', KEYS[3], '+inf', ARGV[1])
end
redis.call('HSET', KEYS[1], 'w:' .. ARGV[1], '1')
fix_index_ttl(KEYS[3])
return {now, exp}
`),
};

/**
 * findWait: KEYS[1]=W, KEYS[2]=I; ARGV: session-key prefix, wait id.
 * The parked session key, or nil. A wait whose session is gone (expired) is deleted on the way.
 */
export const FIND_WAIT: ScriptDef = {
  numberOfKeys: 2,
  lua: script(`
local key = redis.call('HGET', KEYS[1], 'key')
if not key then return false end
if redis.call('EXISTS', ARGV[1] .. key) == 1 then return key end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
fix_index_ttl(KEYS[2])
return false
`),
};

/**
 * clearWait: KEYS[1]=W, KEYS[2]=I; ARGV: session-key prefix, wait id.
 * Deletes the wait. Returns 1 when it was live (its session still existed).
 */
export const CLEAR_WAIT: ScriptDef = {
  numberOfKeys: 2,
  lua: script(`
local key = redis.call('HGET', KEYS[1], 'key')
redis.call('ZREM', KEYS[2], ARGV[2])
local live = 0
if key then
  redis.call('DEL', KEYS[1])
  local session = ARGV[1] .. key
  if redis.call('EXISTS', session) == 1 then
    live = 1
    redis.call('HDEL', session, 'w:' .. ARGV[2])
  end
end
fix_index_ttl(KEYS[2])
return live
`),
};

/**
 * listWaitsForUser: KEYS[1]=I; ARGV: wait-key prefix, session-key prefix.
 * Prunes expired and dangling entries, and returns {key, scope JSON, ctime, exp or ''} per live wait, flat.
 */
export const LIST_WAITS: ScriptDef = {
  numberOfKeys: 1,
  lua: script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(now_ms()))
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local wait = ARGV[1] .. id
  local w = redis.call('HMGET', wait, 'key', 'scope', 'ctime', 'exp')
  if not w[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif redis.call('EXISTS', ARGV[2] .. w[1]) == 0 then
    redis.call('DEL', wait)
    redis.call('ZREM', KEYS[1], id)
  else
    out[#out + 1] = w[1]
    out[#out + 1] = w[2]
    out[#out + 1] = w[3]
    out[#out + 1] = w[4] or ''
  end
end
fix_index_ttl(KEYS[1])
return out
`),
};

/** Command names on the ioredis client (versioned: a shared client may serve several library versions). */
export const SESSION_COMMANDS = {
  greenticSessionCreateV1: CREATE,
  greenticSessionSaveV1: SAVE,
  greenticSessionRemoveV1: REMOVE,
  greenticSessionRegisterWaitV1: REGISTER_WAIT,
  greenticSessionFindWaitV1: FIND_WAIT,
  greenticSessionClearWaitV1: CLEAR_WAIT,
  greenticSessionListWaitsV1: LIST_WAITS,
} as const;
