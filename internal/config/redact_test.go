package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, want string
		// secret must not appear in the result; empty when there is none.
		secret string
	}{
		{"runbook", "postgresql://event_manager:dittibop@localhost:5432/event_manager?schema=public&connection_limit=10&pool_timeout=10&connect_timeout=5",
			"postgresql://event_manager:***@localhost:5432/event_manager?schema=public&connection_limit=10&pool_timeout=10&connect_timeout=5", "dittibop"},
		{"no password", "postgresql://event_manager@localhost/db", "postgresql://event_manager@localhost/db", ""},
		{"empty password", "postgresql://event_manager:@localhost/db", "postgresql://event_manager:@localhost/db", ""},
		{"no user information", "postgres://localhost:5432/db?sslmode=disable", "postgres://localhost:5432/db?sslmode=disable", ""},
		{"encoded password", "postgres://u:p%40ss%2F@h/db", "postgres://u:***@h/db", "p%40ss"},
		{"password with ? and #", "postgres://u:p?x#y@h/db", "postgres://u:***@h/db", "p?x#y"},
		{"password and sslpassword parameters", "postgres://u@h/db?password=hunter2&sslpassword=keypass&sslmode=require",
			"postgres://u@h/db?password=***&sslpassword=***&sslmode=require", "hunter2"},
		{"encoded password key", "postgres://u@h/db?pass%77ord=hunter2", "postgres://u@h/db?pass%77ord=***", "hunter2"},
		{"@ in a query value is data", "postgres://u:hunter2@h/db?application_name=me@host", "postgres://u:***@h/db?application_name=me@host", "hunter2"},
		{"multiple hosts", "postgres://u:hunter2@h1:5432,h2:5433/db", "postgres://u:***@h1:5432,h2:5433/db", "hunter2"},
		{"other scheme", "mysql://root:hunter2@db:3306/app", "mysql://root:***@db:3306/app", "hunter2"},

		// Ambiguous: an unencoded delimiter in the password. Everything from "user:" to the last
		// '@' goes.
		{"unencoded @", "postgresql://u:hun@ter2@h/db", "postgresql://u:***@h/db", "ter2"},
		{"unencoded /", "postgresql://u:hun/ter2@h/db", "postgresql://u:***@h/db", "ter2"},
		{"unencoded / and ?", "postgresql://u:hu/n?ter2@h/db?sslmode=disable", "postgresql://u:***@h/db?sslmode=disable", "ter2"},
		{"unencoded :", "postgres://a@u:sec:ret@h", "postgres://a@u:***@h", "sec:ret"},
		{"space in password", "postgresql://u:hun ter2@h/db", "postgresql://u:***@h/db", "ter2"},
		{"unencoded / with password parameter", "postgresql://u:x/y@h/db?password=hunter2", "postgresql://u:***@h/db?password=***", "hunter2"},

		{"keyword/value", "host=h user=u password=hunter2 dbname=db", "host=h user=u password=*** dbname=db", "hunter2"},
		{"keyword/value quoted", "host=h password='hun ter2' sslpassword = keypass dbname=db", "host=h password=*** sslpassword = *** dbname=db", "ter2"},
		{"keyword/value escaped quote", `host=h password='hun\'ter2' dbname=db`, "host=h password=*** dbname=db", "ter2"},
		{"keyword/value unterminated quote", "host=h password='hunter2 dbname=db", "host=h password=***", "hunter2"},
		{"keyword/value broken after password", "host=h password=hunter2 broken", "host=h password=*** broken", "hunter2"},

		{"scheme left out", "u:hunter2@localhost:5432/db", "u:***@localhost:5432/db", "hunter2"},
		{"not a connection string", "localhost:5432", "localhost:5432", ""},
		{"empty", "", "", ""},

		// Whole error messages, as callers pass them.
		{"message quoting a URL", "cannot parse `postgres://u:hunter2@h:x/db`: invalid port", "cannot parse `postgres://u:***@h:x/db`: invalid port", "hunter2"},
		{"message with two URLs", "copy from postgres://a:hunter2@h1/db to postgresql://b:other@h2/db failed", "copy from postgres://a:***@h1/db to postgresql://b:***@h2/db failed", "hunter2"},
		{"message quoting a URL with a space in the password", "dial postgres://u:hun ter2@h/db: refused", "dial postgres://u:***@h/db: refused", "ter2"},
		{"message with a password pair", "connect failed (host=h password=hunter2 user=u): refused", "connect failed (host=h password=*** user=u): refused", "hunter2"},
		{"message without secrets", "DATABASE_URL: connection_limit=\"0\" is invalid: want a whole number from 1 to 10000", "DATABASE_URL: connection_limit=\"0\" is invalid: want a whole number from 1 to 10000", ""},
		{"message with an address", "dial tcp 127.0.0.1:5432: connect: connection refused", "dial tcp 127.0.0.1:5432: connect: connection refused", ""},
		{"already redacted", "DATABASE_URL: pgx rejects postgresql://u:***@h/db?sslmode=bogus: sslmode is invalid", "DATABASE_URL: pgx rejects postgresql://u:***@h/db?sslmode=bogus: sslmode is invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := RedactURL(tt.raw)
			require.Equal(t, tt.want, got)
			if tt.secret != "" {
				require.NotContains(t, got, tt.secret)
			}
			require.Equal(t, got, RedactURL(got), "redacting twice changes nothing")
		})
	}
}

// TestRedactedNeverHoldsThePassword feeds passwords full of delimiters, written as is, into
// every place a connection string can hold one.
func TestRedactedNeverHoldsThePassword(t *testing.T) {
	t.Parallel()
	passwords := []string{"s3cr3tpw", "p@ssw0rd", "pa/ss:wd", "p?ss=w&d", "p@/ss?word", "pass word", "pa#ss%zz", "ab:cd@ef/gh?ij=kl"}
	shapes := []func(pw string) string{
		func(pw string) string {
			return "postgresql://event_manager:" + pw + "@localhost:5432/event_manager?schema=public"
		},
		func(pw string) string { return "postgres://event_manager:" + pw + "@localhost/event_manager" },
		func(pw string) string { return "postgres://event_manager:" + pw + "@localhost" },
		func(pw string) string { return "event_manager:" + pw + "@localhost:5432/event_manager" },
		func(pw string) string { return "host=localhost password='" + pw + "' dbname=event_manager" },
		func(pw string) string { return "error: cannot connect to postgres://u:" + pw + "@h/db (refused)" },
	}
	for _, pw := range passwords {
		for _, shape := range shapes {
			raw := shape(pw)
			require.NotContains(t, RedactURL(raw), pw, raw)
			if db, err := ParseDatabaseURL(raw); err != nil {
				require.NotContains(t, err.Error(), pw, raw)
			} else {
				require.NotContains(t, db.Redacted, pw, raw)
			}
		}
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a *** b *** c", scrub("a hunter2 b hunter c", []string{"hunter", "hunter2", ""}))
	require.Equal(t, "nothing", scrub("nothing", nil))
}
