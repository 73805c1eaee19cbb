package ratelimit

// Channel is the NOTIFY channel of migration 00005's triggers; the payload is the tenant id of the
// changed row, "" for a global row. A pglisten.Listener on it keeps a Cache current.
const Channel = "rate_limit_configs"
