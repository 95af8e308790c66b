"""The Lua scripts that make a consumer group's reads and its bookkeeping one atomic step.

Per group, next to the stream (``<stream>:consumers:<group>:...``):

- ``state`` (hash): ``last_id``, the id of the last message the group read, and ``cursor``,
  that message's place in the log (or the last event a catch-up handled), and
  ``caught_up_to``, the first entry the last catch-up read the log up to. When ``last_id`` is
  older than the stream's first entry (and no catch-up stopped at that entry), messages after
  it may have been trimmed away: the read script then reads nothing and answers ``gap`` so
  that the consumer reads the missing range from the log first. Recording them in the same
  script as XREADGROUP means no read can move past a gap unnoticed.
- ``pending`` (hash): message id -> ``"<position> <milliseconds>"`` for every message read
  and not yet acked. When the stream is trimmed past a message still pending (its consumer
  died), XAUTOCLAIM can no longer return it; the sweep script finds it here instead, and the
  consumer reads that event from the log by position.
"""

from __future__ import annotations

_LUA_HELPERS = """
local function parse_id(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if not ms then ms = id; seq = '0' end
  return tonumber(ms), tonumber(seq)
end
local function id_lt(a, b)
  local am, as = parse_id(a)
  local bm, bs = parse_id(b)
  return am < bm or (am == bm and as < bs)
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end
"""

READ = (
    _LUA_HELPERS
    + """
-- KEYS: stream, state, pending. ARGV: group, consumer, count.
local last_id = redis.call('HGET', KEYS[2], 'last_id')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if last_id and first and id_lt(last_id, first[1])
    and redis.call('HGET', KEYS[2], 'caught_up_to') ~= first[1] then
  return {'gap', last_id, first[1], field(first[2], 'cursor') or '',
          redis.call('HGET', KEYS[2], 'cursor') or ''}
end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
                         'STREAMS', KEYS[1], '>')
if not reply then
  local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  return {'idle', newest and newest[1] or '0-0'}
end
local messages = reply[1][2]
local now = now_ms()
local newest_cursor = nil
for _, message in ipairs(messages) do
  local position = field(message[2], 'position') or ''
  redis.call('HSET', KEYS[3], message[1], position .. ' ' .. now)
  newest_cursor = field(message[2], 'cursor') or newest_cursor
end
redis.call('HSET', KEYS[2], 'last_id', messages[#messages][1])
if newest_cursor then redis.call('HSET', KEYS[2], 'cursor', newest_cursor) end
return {'messages', messages}
"""
)

SWEEP = (
    _LUA_HELPERS
    + """
-- Pending messages trimmed from the stream and idle past the timeout: take them over.
-- KEYS: stream, pending. ARGV: idle milliseconds, most to return.
-- Returns id, position, id, position...; a message without a position cannot be read from
-- the log and is dropped, its id returned with position ''.
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local now = now_ms()
local idle, most = tonumber(ARGV[1]), tonumber(ARGV[2])
local found = {}
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local id, value = entries[i], entries[i + 1]
  if not first or id_lt(id, first[1]) then
    local position, since = string.match(value, '^(%d*) (%d+)$')
    if not since or now - tonumber(since) >= idle then
      if position and position ~= '' then
        redis.call('HSET', KEYS[2], id, position .. ' ' .. now)
      else
        redis.call('HDEL', KEYS[2], id)
        position = ''
      end
      table.insert(found, id)
      table.insert(found, position)
      if #found >= 2 * most then break end
    end
  end
end
return found
"""
)

CREATE = (
    _LUA_HELPERS
    + """
-- Create the group; record where it starts unless an earlier group left its state.
-- KEYS: stream, state. ARGV: group, 'latest' or 'earliest', cursor to record for 'earliest'
-- (empty: the stream's own start), log cursor to record when the stream is empty ('' none).
local state_exists = redis.call('EXISTS', KEYS[2]) == 1
local start = '$'
if state_exists or ARGV[2] == 'earliest' then start = '0' end
local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], start, 'MKSTREAM')
if not ok then
  if string.find(tostring(err), 'BUSYGROUP') then return 'exists' end
  error(err)
end
if state_exists then
  -- a group recreated over its old state (a wiped stream): resume from the recorded cursor
  redis.call('HSET', KEYS[2], 'last_id', '0-0')
  return 'resumed'
end
if ARGV[2] == 'earliest' then
  if ARGV[3] ~= '' then
    redis.call('HSET', KEYS[2], 'last_id', '0-0', 'cursor', ARGV[3])
  end
  return 'created'
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if newest then
  local cursor = field(newest[2], 'cursor')
  redis.call('HSET', KEYS[2], 'last_id', newest[1])
  if cursor then redis.call('HSET', KEYS[2], 'cursor', cursor) end
elseif ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], 'last_id', '0-0', 'cursor', ARGV[4])
end
return 'created'
"""
)

FINISH_CATCH_UP = """
-- The log was read up to the stream's first entry: read the stream from that entry on.
-- KEYS: state. ARGV: the first entry's id, the cursor handled last ('' to keep it).
redis.call('HSET', KEYS[1], 'caught_up_to', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'cursor', ARGV[2]) end
return 1
"""
