"""Lua scripts of the Redis Streams backend; each runs atomically on the server.

They touch keys derived from their arguments (staged commands, dead-letter stream), so the
backend targets a standalone Redis (or a single-shard deployment), not Redis Cluster.
"""

from __future__ import annotations

SEND = """
-- KEYS: distinct destination streams; ARGV[1..#KEYS]: bound of each stream;
-- ARGV[#KEYS+1]: JSON array of messages, each [[key indexes...], data].
-- A message is added to all its streams or to none. Once a stream refuses a message, every
-- later message for any stream of the refused one is refused too (FIFO per stream).
local nkeys = #KEYS
local lens, blocked = {}, {}
for i = 1, nkeys do lens[i] = redis.call('XLEN', KEYS[i]) end
local rejected, full_key, full_len = {}, false, 0
for m, message in ipairs(cjson.decode(ARGV[nkeys + 1])) do
  local idx, ok = message[1], true
  for _, k in ipairs(idx) do
    if blocked[k] then
      ok = false
    elseif lens[k] >= tonumber(ARGV[k]) then
      ok = false
      if not full_key then full_key, full_len = KEYS[k], lens[k] end
    end
  end
  if ok then
    for _, k in ipairs(idx) do
      redis.call('XADD', KEYS[k], '*', 'e', message[2])
      lens[k] = lens[k] + 1
    end
  else
    rejected[#rejected + 1] = m
    for _, k in ipairs(idx) do blocked[k] = true end
  end
end
return {rejected, full_key or '', full_len}
"""

COMMIT = """
-- KEYS[1] stream, KEYS[2] dead-letter stream, KEYS[3] error hash of the stream.
-- ARGV[1] group, ARGV[2] idempotency ttl (s), ARGV[3] recipient, ARGV[4] consumer;
-- ARGV[5] JSON array of ops:
--   ["C", id, key, [[command...], ...]]  SET key NX; only if new run the staged commands; ack
--   ["A", id]                            ack only (already applied)
--   ["F", id, error]                     remember the handler error; leave pending
-- ARGV[6..] dead letters, 5 values each (kept binary-exact, outside JSON):
--   id raw error deliveries envelope_id  dead-letter if we still own the entry; ack
local stream, dead, errors = KEYS[1], KEYS[2], KEYS[3]
local group, ttl, recipient, consumer = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local acks, applied, dups, dead_count = {}, 0, 0, 0
for _, op in ipairs(cjson.decode(ARGV[5])) do
  local kind, id = op[1], op[2]
  if kind == 'C' then
    if redis.call('SET', op[3], '1', 'NX', 'EX', ttl) then
      for _, command in ipairs(op[4]) do redis.call(unpack(command)) end
      applied = applied + 1
    else
      dups = dups + 1
    end
    acks[#acks + 1] = id
  elseif kind == 'A' then
    acks[#acks + 1] = id
    dups = dups + 1
  elseif kind == 'F' then
    redis.call('HSET', errors, id, op[3])
  else
    return redis.error_reply('unknown commit op ' .. tostring(kind))
  end
end
for i = 6, #ARGV, 5 do
  local id = ARGV[i]
  local owner = redis.call('XPENDING', stream, group, id, id, 1)
  if #owner == 1 and owner[1][2] == consumer then
    redis.call('XADD', dead, '*', 'raw', ARGV[i + 1], 'error', ARGV[i + 2],
      'deliveries', ARGV[i + 3], 'envelope_id', ARGV[i + 4], 'recipient', recipient,
      'group', group, 'stream', stream, 'source_id', id)
    acks[#acks + 1] = id
    dead_count = dead_count + 1
  end
end
if #acks > 0 then
  redis.call('XACK', stream, group, unpack(acks))
  redis.call('HDEL', errors, unpack(acks))
end
return {applied, dups, dead_count}
"""

TRIM = """
-- KEYS[1] stream. Trim entries every consumer group has acknowledged (never unprocessed ones).
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local best_ms, best_seq, best = nil, nil, nil
for _, g in ipairs(groups) do
  local info = {}
  for j = 1, #g, 2 do info[g[j]] = g[j + 1] end
  local candidate
  if tonumber(info['pending']) > 0 then
    candidate = redis.call('XPENDING', KEYS[1], info['name'])[2]
  else
    local ms, seq = string.match(info['last-delivered-id'], '^(%d+)-(%d+)$')
    candidate = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
  end
  local ms, seq = string.match(candidate, '^(%d+)-(%d+)$')
  ms, seq = tonumber(ms), tonumber(seq)
  if best == nil or ms < best_ms or (ms == best_ms and seq < best_seq) then
    best_ms, best_seq, best = ms, seq, candidate
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', best)
"""
