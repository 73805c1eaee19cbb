package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/ratelimit/rules"
	"github.com/redis/go-redis/v9"
)

// gcraScript is take() in Lua: both buckets of a key decided and updated atomically, in one round
// trip. The clock is Redis's (TIME), so that instances with skewed clocks count alike. A key is
// stored only while its bucket is not full (PX = time until full).
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local allowed, retry = 1, 0
local tats, nexts = {}, {}
for i = 1, 2 do
  local interval, cap = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  tats[i], nexts[i] = tat, tat + interval
  local over = nexts[i] - now - interval * cap
  if over > 0 then
    allowed = 0
    if over > retry then retry = over end
  end
end
local limit, remaining, reset = 0, -1, 0
for i = 1, 2 do
  local interval, cap = tonumber(ARGV[2*i-1]), tonumber(ARGV[2*i])
  local tat = tats[i]
  if allowed == 1 then tat = nexts[i] end
  local rem = math.floor((interval * cap - (tat - now)) / interval)
  if rem < 0 then rem = 0 end
  if remaining < 0 or rem < remaining then remaining, limit, reset = rem, cap, tat - now end
end
if allowed == 1 then
  for i = 1, 2 do
    redis.call('SET', KEYS[i], string.format('%d', nexts[i]), 'PX', math.ceil((nexts[i] - now) / 1000))
  end
end
return {allowed, limit, remaining, reset, retry}
`)

// ErrBusy is a limiter that answers but has no connection free right now (a burst of concurrent
// requests): Fallback decides that request in process without declaring an outage.
var ErrBusy = errors.New("rate limiter busy")

// Redis counts in Redis, so that every instance shares one limit per key.
type Redis struct {
	client *redis.Client
}

// NewRedis connects lazily to url (redis://[:password@]host:port/db). Timeouts are short and there
// are no retries: a request must not wait on an unreachable Redis; Fallback answers instead.
func NewRedis(url string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opts.DialTimeout = 250 * time.Millisecond
	opts.ReadTimeout = 250 * time.Millisecond
	opts.WriteTimeout = 250 * time.Millisecond
	opts.PoolTimeout = 250 * time.Millisecond
	opts.MaxRetries = -1 // none
	opts.DialerRetries = 1
	opts.DialerRetryTimeout = 10 * time.Millisecond
	quietRedisLogs.Do(func() { redis.SetLogger(debugLogger{}) })
	return &Redis{client: redis.NewClient(opts)}, nil
}

// quietRedisLogs sends go-redis's own log lines (one per failed dial: every probe during an
// outage) to slog at debug level: Fallback logs the outage once, at its start and end. The logger
// is the package's global, so it is set once, before the first client exists.
var quietRedisLogs sync.Once

type debugLogger struct{}

func (debugLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Allow runs the script: one round trip (EVALSHA; EVAL once per connection lifetime of the script cache).
func (r *Redis) Allow(ctx context.Context, key string, l rules.Limit) (Decision, error) {
	bs := buckets(l)
	// The hash tag keeps both keys in one Redis Cluster slot.
	keys := []string{"rl:{" + key + "}:m", "rl:{" + key + "}:h"}
	res, err := gcraScript.Run(ctx, r.client, keys, bs[0].interval, bs[0].capacity, bs[1].interval, bs[1].capacity).Int64Slice()
	if errors.Is(err, redis.ErrPoolTimeout) {
		return Decision{}, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	if err != nil {
		return Decision{}, err
	}
	if len(res) != 5 {
		return Decision{}, fmt.Errorf("rate-limit script answered %d values", len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Limit:      int(res[1]),
		Remaining:  int(res[2]),
		Reset:      time.Duration(res[3]) * time.Microsecond,
		RetryAfter: time.Duration(res[4]) * time.Microsecond,
	}, nil
}
