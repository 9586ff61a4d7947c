/**
 * Internal: the Lua scripts of {@link RedisStateStore} (registered with ioredis `defineCommand`: EVALSHA, with
 * EVAL fallback by ioredis). Not exported from `index.ts`.
 *
 * **Why not cjson.** Redis 7.0's bundled lua-cjson turns `[]` into `{}` on a round trip, prints numbers with 14
 * significant digits (`9007199254740991` → `9.007199254741e+15`, `0.1 + 0.2` → `0.3`) and loses member order;
 * `decode_array_with_array_mt` only exists from Redis 7.2 on and fixes none of the number problems. So the scripts
 * never decode a document: they walk the JSON *text* and splice it. A document is stored as `JSON.stringify`
 * wrote it (no whitespace) except that `{`, `}`, `[` and `]` inside strings are written as `\u007b`, `\u007d`,
 * `\u005b`, `\u005d` (same JSON, `JSON.parse` gives the same value). Every number, empty array and member order
 * survives any number of pointer writes byte for byte.
 *
 * **Reads** are a plain `GET` and the pointer walk happens in the client (`readAt`): just as atomic, and far
 * cheaper for Redis' single thread than any walk in Lua.
 *
 * **The walk (writes and deletes).** A pointer arrives as one ARGV per segment, each the segment's JSON text
 * (escaped the same way), which is byte for byte how that member name appears in a stored document. In an object
 * the walk compares key tokens member by member and skips each value with one C-level `string.find`: strings by
 * `^"[^"\\]*"`, containers by the balanced match `%b{}`/`%b[]` (exact because strings hold no raw brackets).
 * In an array it counts elements the same way. A write costs Redis time linear in the bytes before the target,
 * at C speed, plus a few Lua steps per member passed.
 *
 * Index: every document's state key is a member of its (scope, prefix) index, a sorted set scored by the
 * document's expiry (`+inf` for none); the index itself expires with its longest-lived document. `list` and
 * `deletePrefix` read the index instead of scanning the keyspace.
 */

const PRELUDE = String.raw`
local byte, sub, find = string.byte, string.sub, string.find
local function int(x) return string.format('%.0f', x) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fix_index_ttl(idx)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] == nil then return end
  if top[2] == 'inf' then redis.call('PERSIST', idx) else redis.call('PEXPIREAT', idx, top[2]) end
end

-- Index just past the string token that starts at i (s[i] is a quote). One C-level match for a string without
-- escapes, a loop over the escapes otherwise.
local function skip_string(s, i)
  local _, e = find(s, '^"[^"\\]*"', i)
  if e then return e + 1 end
  local j = i + 1
  while true do
    local q = find(s, '["\\]', j)
    if byte(s, q) == 34 then return q + 1 end
    j = q + 2
  end
end

-- Index just past the value that starts at i. Strings hold no raw { } [ ] (the client escapes them), so a
-- container is skipped by one C-level balanced match (%b).
local function skip_value(s, i)
  local c = byte(s, i)
  if c == 34 then return skip_string(s, i) end
  local _, e
  if c == 123 then
    _, e = find(s, '^%b{}', i)
  elseif c == 91 then
    _, e = find(s, '^%b[]', i)
  else
    _, e = find(s, '^[^,}%]]*', i)
  end
  return e + 1
end

-- In the object at i: (key start, value start) of member token tok, or (nil, index of '}'). The matched
-- value is not skipped: callers that need its end call skip_value, the others save a walk over it.
local function find_member(s, i, tok)
  local j = i + 1
  if byte(s, j) == 125 then return nil, j end
  local len = #tok
  while true do
    local ke = skip_string(s, j)
    if ke - j == len and sub(s, j, ke - 1) == tok then return j, ke + 1 end
    local ve = skip_value(s, ke + 1)
    if byte(s, ve) == 125 then return nil, ve end
    j = ve + 1
  end
end

-- In the array at i: the value start of element idx (0-based), or (nil, length, index of ']').
local function find_index(s, i, idx)
  local j = i + 1
  if byte(s, j) == 93 then return nil, 0, j end
  local n = 0
  while true do
    if n == idx then return j end
    local ve = skip_value(s, j)
    n = n + 1
    if byte(s, ve) == 93 then return nil, n, ve end
    j = ve + 1
  end
end

-- The array index a segment token names ("0", "12"; no sign, no leading zero), or nil.
local function index_of(tok)
  local raw = sub(tok, 2, -2)
  if raw == '0' or find(raw, '^[1-9]%d*$') then return tonumber(raw) end
  return nil
end

local function kind_of(c)
  if c == 34 then return 'string' end
  if c == 116 or c == 102 then return 'boolean' end
  if c == 110 then return 'null' end
  return 'number'
end

local function is_container(c) return c == 123 or c == 91 end

-- val wrapped in objects for segments k..n (what a write creates below a missing member).
local function nest(segs, k, val)
  for j = #segs, k, -1 do val = '{' .. segs[j] .. ':' .. val .. '}' end
  return val
end

-- The document with val written at segs (non-empty), or nil and {'array', upto, length} / {'scalar', upto, kind}
-- (upto = how many segments lead to the offending value).
local function write_at(s, segs, val)
  local n = #segs
  if not s then return nest(segs, 1, val) end
  local pos = 1
  for k = 1, n do
    local tok = segs[k]
    local c = byte(s, pos)
    local vs
    if c == 123 then
      local ks, at
      if pos == 1 and not find(s, tok .. ':', 1, true) then
        -- Not a member name anywhere in the text: append to the root object without walking it.
        at = #s
      else
        ks, at = find_member(s, pos, tok)
      end
      if not ks then
        local ins = tok .. ':' .. nest(segs, k + 1, val)
        if at > pos + 1 then ins = ',' .. ins end
        return sub(s, 1, at - 1) .. ins .. sub(s, at)
      end
      vs = at
    elseif c == 91 then
      local idx
      if tok == '"-"' then idx = -1 else idx = index_of(tok) end
      if not idx then
        local _, len = find_index(s, pos, -1)
        return nil, {'array', k - 1, len}
      end
      local at, len, close = find_index(s, pos, idx)
      if not at then
        if idx ~= -1 and idx ~= len then return nil, {'array', k - 1, len} end
        local ins = nest(segs, k + 1, val)
        if len > 0 then ins = ',' .. ins end
        return sub(s, 1, close - 1) .. ins .. sub(s, close)
      end
      vs = at
    else
      return nil, {'scalar', k - 1, kind_of(c)}
    end
    if k == n then return sub(s, 1, vs - 1) .. val .. sub(s, skip_value(s, vs)) end
    if not is_container(byte(s, vs)) then return nil, {'scalar', k, kind_of(byte(s, vs))} end
    pos = vs
  end
end

-- Removes the element spanning [a, b) and one separating comma.
local function cut(s, a, b)
  if byte(s, a - 1) == 44 then return sub(s, 1, a - 2) .. sub(s, b) end
  if byte(s, b) == 44 then return sub(s, 1, a - 1) .. sub(s, b + 1) end
  return sub(s, 1, a - 1) .. sub(s, b)
end

-- The document without the member/element at segs (non-empty), or nil when the pointer does not resolve.
local function delete_at(s, segs)
  local pos, n = 1, #segs
  for k = 1, n do
    local c = byte(s, pos)
    local a, b
    if c == 123 then
      a, b = find_member(s, pos, segs[k])
      if not a then return nil end
    elseif c == 91 then
      local idx = index_of(segs[k])
      if not idx then return nil end
      b = find_index(s, pos, idx)
      if not b then return nil end
      a = b
    else
      return nil
    end
    if k == n then return cut(s, a, skip_value(s, b)) end
    pos = b
  end
end
`;

const script = (body: string): string => PRELUDE + body;

export interface ScriptDef {
  numberOfKeys: number;
  lua: string;
}

/**
 * write: KEYS[1]=document, KEYS[2]=index; ARGV: state key, ttl ('' keep, '0' clear, n ms), value JSON, segment
 * tokens… (none: the whole document). Returns {'ok'} or a path error {'array'|'scalar', upto, length|kind}.
 */
export const WRITE: ScriptDef = {
  numberOfKeys: 2,
  lua: script(`
local doc = ARGV[3]
if #ARGV > 3 then
  local segs = {}
  for i = 4, #ARGV do segs[#segs + 1] = ARGV[i] end
  local err
  doc, err = write_at(redis.call('GET', KEYS[1]) or nil, segs, ARGV[3])
  if not doc then return err end
end
local now = now_ms()
local ttl, score = ARGV[2], '+inf'
if ttl == '' then
  local left = redis.call('PTTL', KEYS[1])
  if left >= 0 then
    score = redis.call('ZSCORE', KEYS[2], ARGV[1]) or int(now + left)
    redis.call('SET', KEYS[1], doc, 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], doc)
  end
elseif ttl == '0' then
  redis.call('SET', KEYS[1], doc)
else
  score = int(now + tonumber(ttl))
  redis.call('SET', KEYS[1], doc, 'PXAT', score)
end
redis.call('ZADD', KEYS[2], score, ARGV[1])
fix_index_ttl(KEYS[2])
return {'ok'}
`),
};

/**
 * delete: KEYS[1]=document, KEYS[2]=index; ARGV: state key, segment tokens… (none: the whole document).
 * Returns 1 when something was deleted. A pointer delete keeps the document's TTL.
 */
export const DELETE: ScriptDef = {
  numberOfKeys: 2,
  lua: script(`
if #ARGV == 1 then
  local n = redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  fix_index_ttl(KEYS[2])
  return n
end
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
local segs = {}
for i = 2, #ARGV do segs[#segs + 1] = ARGV[i] end
local doc = delete_at(s, segs)
if not doc then return 0 end
redis.call('SET', KEYS[1], doc, 'KEEPTTL')
return 1
`),
};

/**
 * list: KEYS[1]=index; ARGV: document-key prefix. Prunes expired and vanished entries; returns the live keys
 * (unsorted).
 */
export const LIST: ScriptDef = {
  numberOfKeys: 1,
  lua: script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(now_ms()))
local out = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. key) == 1 then
    out[#out + 1] = key
  else
    redis.call('ZREM', KEYS[1], key)
  end
end
return out
`),
};

/**
 * deletePrefix, one batch: KEYS[1]=index; ARGV: document-key prefix, batch size. Deletes up to `batch` documents
 * of the index; returns {documents deleted (live ones only), entries left}. The caller repeats until none are
 * left, so one huge prefix never blocks Redis in a single script.
 */
export const DELETE_BATCH: ScriptDef = {
  numberOfKeys: 1,
  lua: script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(now_ms()))
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[2])
local n = 0
for i = 1, #popped, 2 do n = n + redis.call('DEL', ARGV[1] .. popped[i]) end
return {n, redis.call('ZCARD', KEYS[1])}
`),
};

/** Command names on the ioredis client (versioned: a shared client may serve several library versions). */
export const STATE_COMMANDS = {
  greenticStateWriteV1: WRITE,
  greenticStateDeleteV1: DELETE,
  greenticStateListV1: LIST,
  greenticStateDeleteBatchV1: DELETE_BATCH,
} as const;
