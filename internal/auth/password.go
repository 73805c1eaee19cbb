package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters. They are stored in every encoded hash, so they can be
// raised later without invalidating existing passwords (see NeedsRehash).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are used by HashPassword: the OWASP minimum for argon2id (19 MiB, 2 passes,
// 1 lane), which keeps a login to a few tens of milliseconds on a two-core machine.
// Tests of other packages may lower it in TestMain to make fixtures cheap; never change it
// while passwords are being hashed.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from an encoded hash. A corrupted or hostile password_hash
// column must not be able to make one login allocate gigabytes or run for minutes.
const (
	maxMemory  = 1 << 20 // KiB (1 GiB)
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
)

// Password length limits. The upper bound keeps hashing cost bounded and is far above any
// passphrase a person types; it is in bytes because that is what argon2 pays for.
const (
	MinPasswordChars = 10
	MaxPasswordBytes = 256
)

// Errors returned by ValidatePassword. Their messages are meant to be shown to the user.
var (
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters long", MinPasswordChars)
	ErrPasswordTooLong  = fmt.Errorf("password must be at most %d bytes long", MaxPasswordBytes)
	ErrPasswordEncoding = errors.New("password must be valid UTF-8 text")
)

// ErrMalformedHash is returned (wrapped) by CheckPassword and NeedsRehash when an encoded hash
// cannot be parsed or has parameters outside the accepted bounds.
var ErrMalformedHash = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding.Strict()

// HashPassword returns the argon2id hash of password with a fresh random salt, encoded as
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> (unpadded standard base64).
// It does not validate the password: call ValidatePassword first when the password is new.
func HashPassword(password string) (string, error) {
	return hashWith(password, DefaultParams)
}

func hashWith(password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	key := idKey([]byte(password), salt, p)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// hashSlots bounds how many argon2id computations run at once. Each holds Params.Memory (19 MiB by
// default) for ~50 ms of CPU: a burst of sign-ins at the start of an event would otherwise multiply
// that memory by the number of requests while adding no throughput beyond one per core.
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func idKey(password, salt []byte, p Params) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// argon2IDKey is argon2.IDKey; a test replaces it to watch how many run at once.
var argon2IDKey = argon2.IDKey

// CheckPassword reports whether password matches the encoded hash. The parameters are read
// from the hash itself, so hashes made with older parameters keep working. A hash that cannot
// be parsed is an error, not a mismatch: it means the stored data is broken.
func CheckPassword(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := idKey([]byte(password), salt, p)
	// Constant time, so the comparison does not tell an attacker how many bytes matched.
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than DefaultParams.
// Login may then store a fresh HashPassword of the password it has just verified.
func NeedsRehash(encoded string) (bool, error) {
	p, _, _, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	return p != DefaultParams, nil
}

// decodeHash parses the PHC string strictly: exactly one form is accepted for each field.
func decodeHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	fields := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(fields) != 6 || fields[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: expected 5 '$'-separated fields", ErrMalformedHash)
	}
	if fields[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: unsupported algorithm %q", ErrMalformedHash, fields[1])
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, fields[2])
	}
	kv := strings.Split(fields[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, fmt.Errorf("%w: expected parameters m, t and p", ErrMalformedHash)
	}
	m, err1 := parseParam(kv[0], "m=", 32)
	t, err2 := parseParam(kv[1], "t=", 32)
	l, err3 := parseParam(kv[2], "p=", 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	salt, err := b64.DecodeString(fields[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt: %w", ErrMalformedHash, err)
	}
	key, err := b64.DecodeString(fields[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash: %w", ErrMalformedHash, err)
	}
	p = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(l), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.validate(); err != nil {
		return p, nil, nil, err
	}
	return p, salt, key, nil
}

// parseParam reads "<prefix><decimal>" without signs or leading zeros, so that each hash
// has exactly one textual form.
func parseParam(s, prefix string, bits int) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, fmt.Errorf("bad parameter %q", s)
	}
	v, err := strconv.ParseUint(digits, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("bad parameter %q", s)
	}
	return v, nil
}

func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: p must be at least 1", ErrMalformedHash)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: t=%d outside 1..%d", ErrMalformedHash, p.Time, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory: // argon2 needs 8 KiB per lane
		return fmt.Errorf("%w: m=%d outside %d..%d", ErrMalformedHash, p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt of %d bytes outside %d..%d", ErrMalformedHash, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: hash of %d bytes outside %d..%d", ErrMalformedHash, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// ValidatePassword checks a new password: at least MinPasswordChars characters and at most
// MaxPasswordBytes bytes. Following NIST SP 800-63B it imposes no composition rules: length is
// what makes a password strong. The error's message can be shown to the user as is.
func ValidatePassword(p string) error {
	switch {
	case len(p) > MaxPasswordBytes:
		return ErrPasswordTooLong
	case !utf8.ValidString(p):
		return ErrPasswordEncoding
	case utf8.RuneCountInString(p) < MinPasswordChars:
		return ErrPasswordTooShort
	}
	return nil
}

// passwordAlphabet leaves out characters that are easily misread (0/O/o, 1/l/I/i), because
// one-time passwords are read off a screen and typed by hand.
const passwordAlphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

// RandomPasswordLen is the length of RandomPassword's result: about 92 bits of entropy.
const RandomPasswordLen = 16

// RandomPassword returns a random password of RandomPasswordLen characters from an unambiguous
// alphabet, for one-time admin passwords. It always passes ValidatePassword.
func RandomPassword() string {
	out := make([]byte, 0, RandomPasswordLen)
	// Rejection sampling: bytes at or above limit would make some characters more likely.
	const n = len(passwordAlphabet)
	const limit = 256 - 256%n
	var buf [32]byte
	for len(out) < RandomPasswordLen {
		// crypto/rand.Read never fails since Go 1.24 (it crashes the program instead).
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < RandomPasswordLen {
				out = append(out, passwordAlphabet[int(b)%n])
			}
		}
	}
	return string(out)
}

var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword(RandomPassword())
	if err != nil {
		panic("auth: computing the dummy hash: " + err.Error())
	}
	return h
})

// DummyHash returns the hash of a random password nobody knows, computed on first use with
// DefaultParams. Login must call CheckPassword(DummyHash(), password) when no user has the
// given email, and then fail as for a wrong password: a login for an unknown email then costs
// the same time as one for a known email, so response times do not reveal which emails exist.
func DummyHash() string {
	return dummyHash()
}
