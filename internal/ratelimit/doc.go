// Package ratelimit enforces the limits of rate_limit_configs: it caches the configurations in
// process (Cache, invalidated by PostgreSQL NOTIFY: Listen hands it to the instance's listener),
// resolves which one applies to a request (with package rules), and counts requests with GCRA, in
// process (Memory) or in Redis (Redis), falling back to the process when Redis is unreachable
// (Fallback). Enforcer ties them together for the HTTP middleware.
package ratelimit
