package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	require.Equal(t, len(TokenPrefix)+base64.RawURLEncoding.EncodedLen(tokenBytes), TokenLen)
	seen := map[string]bool{}
	for range 1000 {
		tok, hash, err := NewToken()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(tok, TokenPrefix), tok)
		require.Len(t, tok, TokenLen)
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, TokenPrefix))
		require.NoError(t, err)
		require.Len(t, raw, tokenBytes)
		require.Len(t, hash, sha256.Size)
		require.Equal(t, HashToken(tok), hash)
		want := sha256.Sum256([]byte(tok))
		require.Equal(t, want[:], hash, "the hash covers the prefix too")
		got, ok := ParseBearer("Bearer " + tok)
		require.True(t, ok, "our own tokens must parse")
		require.Equal(t, tok, got)
		require.False(t, seen[tok], "duplicate token")
		seen[tok] = true
	}
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token string
		want  string // base64 of the SHA-256 (from openssl dgst -sha256)
	}{
		{"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"em_abc", "TFSwnHKfY6z1nUFyO84/tGldh24bPXEAzz9jD2g131o="},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			t.Parallel()
			want, err := base64.StdEncoding.DecodeString(tc.want)
			require.NoError(t, err)
			require.Equal(t, want, HashToken(tc.token))
		})
	}
	require.NotEqual(t, HashToken("em_a"), HashToken("em_b"))
}

func TestParseBearer(t *testing.T) {
	t.Parallel()
	const tok = "em_Zm9vYmFyYmF6cXV4LW5vdC1yZWFsLXRva2VuXzEyMzQ"
	tests := []struct {
		name   string
		header string
		want   string
		ok     bool
	}{
		{"ok", "Bearer " + tok, tok, true},
		{"lower scheme", "bearer " + tok, tok, true},
		{"upper scheme", "BEARER " + tok, tok, true},
		{"mixed scheme", "bEaReR " + tok, tok, true},
		{"extra spaces", "Bearer   " + tok + "  ", tok, true},
		{"b64token chars", "Bearer aZ09-._~+/==", "aZ09-._~+/==", true},
		{"200 chars", "Bearer " + strings.Repeat("a", 200), strings.Repeat("a", 200), true},

		{"empty header", "", "", false},
		{"scheme only", "Bearer", "", false},
		{"scheme and space", "Bearer ", "", false},
		{"scheme and spaces", "Bearer    ", "", false},
		{"no scheme", tok, "", false},
		{"basic", "Basic dXNlcjpwYXNz", "", false},
		{"scheme prefix", "Bearerx " + tok, "", false},
		{"scheme without space", "Bearer" + tok, "", false},
		{"tab separator", "Bearer\t" + tok, "", false},
		{"leading space", " Bearer " + tok, "", false},
		{"201 chars", "Bearer " + strings.Repeat("a", 201), "", false},
		{"two tokens", "Bearer " + tok + " " + tok, "", false},
		{"comma", "Bearer " + tok + ",x", "", false},
		{"quote", `Bearer "` + tok + `"`, "", false},
		{"tab inside", "Bearer em_a\tb", "", false},
		{"newline", "Bearer em_a\nb", "", false},
		{"nul", "Bearer em_a\x00", "", false},
		{"non-ascii", "Bearer em_é", "", false},
		{"only padding", "Bearer ===", "", false},
		{"padding inside", "Bearer ab=cd", "", false},
		{"dollar", "Bearer em_$abc", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseBearer(tc.header)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func BenchmarkParseAndHashToken(b *testing.B) {
	tok, _, err := NewToken()
	require.NoError(b, err)
	header := "Bearer " + tok
	for b.Loop() {
		t, ok := ParseBearer(header)
		if !ok {
			b.Fatal("not parsed")
		}
		_ = HashToken(t)
	}
}
