package auth

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// Not parallel: it swaps the package's argon2 function.
func TestHashConcurrencyIsBounded(t *testing.T) {
	var running, peak atomic.Int32
	argon2IDKey = func(pw, salt []byte, time_, mem uint32, threads uint8, keyLen uint32) []byte {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		return argon2.IDKey(pw, salt, time_, mem, threads, keyLen)
	}
	t.Cleanup(func() { argon2IDKey = argon2.IDKey })
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := hashWith("correct horse battery", cheap); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if max := int32(runtime.GOMAXPROCS(0)); peak.Load() > max || peak.Load() < 1 {
		t.Fatalf("peak %d concurrent hashes, want 1..%d", peak.Load(), max)
	}
}
