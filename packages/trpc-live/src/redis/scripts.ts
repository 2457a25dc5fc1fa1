/**
 * Lua scripts the Redis backend runs. Each is one atomic step on the server:
 * no other client's command runs in between, so sequence, history and
 * fan-out can never disagree, and pub/sub order equals sequence order.
 *
 * Keys: `<prefix>:epoch` (history identity), `<prefix>:seq` (global
 * sequence), `<prefix>:s:<scope>` (one stream per scope, entry ids
 * `<seq>-0`), `<prefix>:floor` (hash scope → highest seq trimmed away),
 * `<prefix>:o:<origin>` (highest serial of one publishing process).
 */

/**
 * Creates the epoch if missing (a fresh or emptied Redis starts a new
 * history), takes the next seq, appends to the scope's stream, trims it and
 * publishes `<epoch>:<seq>|<payload>` on the channel.
 *
 * Trimming is done here rather than with `XADD MAXLEN ~`: Redis 7.0 does not
 * record trimmed ids in `max-deleted-entry-id` (only XDEL does), and replay
 * must know the highest seq it lost per scope to answer `evicted` instead of
 * silently skipping entries. Trimming waits until the stream exceeds
 * `maxLen + slack`, then cuts back to `maxLen` in one `XTRIM MINID`, so the
 * cost per publish stays O(1) amortized, like `MAXLEN ~`.
 *
 * One identity, one entry: `<prefix>:o:<origin>` holds the highest serial
 * of that publishing process written so far. A process sends its publishes
 * in serial order on one connection (a forward after an outage is sorted,
 * and sent before any new publish), so a serial at or below it is a copy
 * already in history: a publish Redis ran after the client gave up on it
 * (a freeze, a stalled link), then forwarded again. It is skipped
 * (`seq` 0 returned) instead of getting a second seq. The key expires after
 * `ttl` seconds without a publish from that process.
 *
 * The entry's fields: `k` (compaction key), `d` (payload), `o` and `n`
 * (identity, read by SINCE_SCRIPT).
 *
 * KEYS: epoch, seq, stream, floor, origin. ARGV: candidate epoch, channel,
 * scope, payload, maxLen, slack, compaction key (`''` for unique signals),
 * serial, ttl, origin. Returns `{ epoch, seq }`, seq 0 for a copy.
 */
export const PUBLISH_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local serial = tonumber(ARGV[8])
if serial <= tonumber(redis.call('GET', KEYS[5]) or '0') then return { epoch, 0 } end
redis.call('SET', KEYS[5], ARGV[8], 'EX', ARGV[9])
local seq = redis.call('INCR', KEYS[2])
local seqText = string.format('%d', seq)
redis.call('XADD', KEYS[3], seqText .. '-0', 'k', ARGV[7], 'd', ARGV[4], 'o', ARGV[10], 'n', ARGV[8])
local maxLen = tonumber(ARGV[5])
local len = redis.call('XLEN', KEYS[3])
if len > maxLen + tonumber(ARGV[6]) then
  local victims = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', len - maxLen)
  local lastId = victims[#victims][1]
  local lastSeq = tonumber(string.match(lastId, '^(%d+)'))
  redis.call('XTRIM', KEYS[3], 'MINID', string.format('%d', lastSeq + 1) .. '-0')
  redis.call('HSET', KEYS[4], ARGV[3], string.format('%d', lastSeq))
end
redis.call('PUBLISH', ARGV[2], epoch .. ':' .. seqText .. '|' .. ARGV[4])
return { epoch, seq }
`;

/**
 * Reads what a reconnecting client missed, atomically with the checks that
 * decide whether it can be served: epoch, head and the scope's trim floor.
 * Compacts on the server (latest entry per key), so a reconnect after a
 * burst on a few keys transfers those keys, not the burst.
 *
 * A replay must not hand a client a second copy of a signal it may have
 * had under another name: the local copy its instance delivered while Redis
 * did not answer (then Redis ran the command after all, or it was forwarded
 * here), or a copy from an epoch Redis since lost. The replaying instance
 * cannot know what the client holds, so such entries are never replayed:
 * a process that delivered signals locally records, before its copies can
 * be written, the highest serial that may have a twin
 * (`<prefix>:t:<origin>`), and a replay whose range holds an entry of that
 * origin at or below it answers `gap` (a reset covers it) instead. Only
 * cursors from before a fault's copies are affected.
 *
 * The entries go back flat, four strings each (id, payload, origin, serial;
 * `''` for a field the entry lacks), not as XRANGE's `[id, [field, value,
 * …]]`: the reply is parsed by the replaying process and serialized by Redis,
 * and every element costs both. 2,000 reads of 150 entries, 8 in flight
 * (ioredis; two invocations of 5 rounds, the shapes alternated, each
 * invocation's first round left out as warm-up; nothing else running;
 * 2026-12-07): the reading process's CPU 265-437 µs per read nested
 * (median 350), 125-288 flat (median 235); Redis's own 385-638 µs nested
 * (median 411), 268-435 flat (median 279). 30 entries: 55-108 → 38-59 µs
 * and 76-78 → 54-63 µs. A reconnect storm after a deploy makes one read per
 * resuming client (soak row 3c: 2,000 reads within seconds).
 *
 * KEYS: epoch, seq, stream, floor. ARGV: cursor epoch, cursor seq, scope,
 * twin key prefix (`<prefix>:t:`).
 * Returns `{ 'ok', flat }` (the entries NEWEST first, four strings each) or
 * `{ reason }`.
 */
export const SINCE_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return { 'epoch' } end
local afterSeq = tonumber(ARGV[2])
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
if afterSeq > head then return { 'unknown-cursor' } end
local floor = tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0')
if afterSeq < floor then return { 'evicted' } end
local raw = redis.call('XRANGE', KEYS[3], '(' .. string.format('%d', afterSeq) .. '-0', '+')
local seen = {}
local out = {}
local n = 0
local twins = {}
for i = #raw, 1, -1 do
  local fields = raw[i][2]
  local key = fields[2]
  if key == '' or not seen[key] then
    if key ~= '' then seen[key] = true end
    local origin = fields[6]
    if origin then
      local twin = twins[origin]
      if twin == nil then
        twin = tonumber(redis.call('GET', ARGV[4] .. origin) or '0')
        twins[origin] = twin
      end
      if tonumber(fields[8]) <= twin then return { 'gap' } end
    end
    out[n + 1] = raw[i][1]
    out[n + 2] = fields[4] or ''
    out[n + 3] = origin or ''
    out[n + 4] = fields[8] or ''
    n = n + 4
  end
end
return { 'ok', out }
`;

/**
 * Joins (or starts) the shared history: sets the epoch if missing and
 * returns `{ epoch, head seq }`.
 *
 * KEYS: epoch, seq. ARGV: candidate epoch.
 */
export const HELLO_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return { redis.call('GET', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0') }
`;
