package auth

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// cheap keeps the tests fast where the cost parameters do not matter.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndCheck(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", "correct horse battery", true},
		{"wrong", "correct horse batterx", false},
		{"empty", "", false},
		{"prefix", "correct horse batter", false},
		{"longer", "correct horse battery ", false},
		{"case", "Correct horse battery", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, err := CheckPassword(h, tc.password)
			require.NoError(t, err)
			require.Equal(t, tc.want, ok)
		})
	}
}

func TestHashesDiffer(t *testing.T) {
	t.Parallel()
	a, err := hashWith("same password", cheap)
	require.NoError(t, err)
	b, err := hashWith("same password", cheap)
	require.NoError(t, err)
	require.NotEqual(t, a, b, "salts must be random")
	for _, h := range []string{a, b} {
		ok, err := CheckPassword(h, "same password")
		require.NoError(t, err)
		require.True(t, ok)
	}
}

func TestParamsRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []Params{
		cheap,
		{Memory: 128, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16},
		{Memory: 256, Time: 1, Threads: 4, SaltLen: 64, KeyLen: 64},
		{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 128},
	}
	for _, p := range tests {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			t.Parallel()
			h, err := hashWith("round trip pw", p)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(h, fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", p.Memory, p.Time, p.Threads)), h)
			got, salt, key, err := decodeHash(h)
			require.NoError(t, err)
			require.Equal(t, p, got)
			require.Len(t, salt, int(p.SaltLen))
			require.Len(t, key, int(p.KeyLen))
			ok, err := CheckPassword(h, "round trip pw")
			require.NoError(t, err)
			require.True(t, ok)
			ok, err = CheckPassword(h, "round trip pX")
			require.NoError(t, err)
			require.False(t, ok)
			rehash, err := NeedsRehash(h)
			require.NoError(t, err)
			require.True(t, rehash)
		})
	}
}

func TestNeedsRehashDefault(t *testing.T) {
	t.Parallel()
	rehash, err := NeedsRehash(DummyHash())
	require.NoError(t, err)
	require.False(t, rehash)
	_, err = NeedsRehash("$argon2id$")
	require.ErrorIs(t, err, ErrMalformedHash)
}

// A known-answer vector from the argon2 reference implementation (phc-winner-argon2 README:
// "password", salt "somesalt", t=2, m=64 MiB, p=4, 32 bytes) guards against the encoding drifting
// from what other PHC implementations produce and accept.
func TestCheckPasswordReferenceVector(t *testing.T) {
	t.Parallel()
	const ref = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	ok, err := CheckPassword(ref, "password")
	require.NoError(t, err)
	require.True(t, ok)
}

func TestCheckTampered(t *testing.T) {
	t.Parallel()
	h, err := hashWith("tamper me please", cheap)
	require.NoError(t, err)
	i := strings.LastIndexByte(h, '$')
	salt := strings.LastIndexByte(h[:i], '$')

	// Each edit leaves a well-formed hash that must no longer verify.
	flip := func(s string, at int) string {
		c := byte('A')
		if s[at] == 'A' {
			c = 'B'
		}
		return s[:at] + string(c) + s[at+1:]
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"hash first char", flip(h, i+1)},
		{"hash middle char", flip(h, i+20)},
		{"salt char", flip(h, salt+1)},
		{"time", strings.Replace(h, "t=1,", "t=2,", 1)},
		{"memory", strings.Replace(h, "m=64,", "m=65,", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NotEqual(t, h, tc.encoded)
			ok, err := CheckPassword(tc.encoded, "tamper me please")
			require.NoError(t, err)
			require.False(t, ok)
		})
	}
}

func TestCheckMalformed(t *testing.T) {
	t.Parallel()
	const salt = "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
	const key = "GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	good := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	_, err := CheckPassword(good, "x")
	require.NoError(t, err, "the base case must parse")

	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"extra field", good + "$x"},
		{"missing hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"params order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"params extra", "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key},
		{"params spaces", "$argon2id$v=19$m=64, t=1, p=1$" + salt + "$" + key},
		{"m not a number", "$argon2id$v=19$m=x,t=1,p=1$" + salt + "$" + key},
		{"m empty", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key},
		{"m negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"m plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"m leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"m overflow", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"m too large", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key},
		{"m below 8 per lane", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"t zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"t too large", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key},
		{"p zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"p overflow", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"salt padded", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"salt bad char", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:10] + "*" + salt[11:] + "$" + key},
		{"salt url alphabet", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2F-dA$" + key},
		{"salt non-canonical", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdB$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"salt empty", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"hash empty", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"hash too short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10]},
		{"hash bad char", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "!" + key[11:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, err := CheckPassword(tc.encoded, "x")
			require.ErrorIs(t, err, ErrMalformedHash)
			require.False(t, ok)
		})
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"empty", "", ErrPasswordTooShort},
		{"nine", "123456789", ErrPasswordTooShort},
		{"ten", "1234567890", nil},
		{"spaces count", "          ", nil},
		{"ten runes", "ééééééééé€", nil},                            // 10 characters, 21 bytes
		{"nine runes many bytes", "€€€€€€€€€", ErrPasswordTooShort}, // 27 bytes but 9 characters
		{"max bytes", strings.Repeat("a", MaxPasswordBytes), nil},
		{"too long", strings.Repeat("a", MaxPasswordBytes+1), ErrPasswordTooLong},
		{"too long multibyte", strings.Repeat("€", 86), ErrPasswordTooLong}, // 258 bytes
		{"invalid utf8", "abcdefghij\xff", ErrPasswordEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePassword(tc.password)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.NotContains(t, err.Error(), "auth:", "the message is shown to users")
		})
	}
}

func TestRandomPassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 1000 {
		p := RandomPassword()
		require.Len(t, p, RandomPasswordLen)
		require.NoError(t, ValidatePassword(p))
		for _, c := range p {
			require.Contains(t, passwordAlphabet, string(c))
			counts[c]++
		}
		require.False(t, seen[p], "duplicate password %q", p)
		seen[p] = true
	}
	// 16000 draws over 55 characters: every character appears (expected ~290 each).
	require.Len(t, counts, utf8.RuneCountInString(passwordAlphabet))
	for _, ambiguous := range "0Oo1lIi" {
		require.NotContains(t, passwordAlphabet, string(ambiguous))
	}
}

func TestDummyHash(t *testing.T) {
	t.Parallel()
	h := DummyHash()
	require.Equal(t, h, DummyHash(), "computed once")
	_, _, _, err := decodeHash(h)
	require.NoError(t, err)
	ok, err := CheckPassword(h, "")
	require.NoError(t, err)
	require.False(t, ok)
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h, err := HashPassword("correct horse battery")
	require.NoError(b, err)
	for b.Loop() {
		if ok, err := CheckPassword(h, "correct horse battery"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
