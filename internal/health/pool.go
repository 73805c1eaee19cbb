package health

import (
	"context"
	"sync"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
)

// PoolSampler keeps this instance's recent pool utilisation: one sample per tick in a ring, so
// that the pool check reports the average and the peak of the last minutes, not only now.
type PoolSampler struct {
	mu      sync.Mutex
	samples []float64 // ring of the last len(samples) samples
	next    int
	full    bool
}

// NewPoolSampler keeps the last size samples: 300 samples taken every second cover 5 minutes.
func NewPoolSampler(size int) *PoolSampler {
	return &PoolSampler{samples: make([]float64, max(size, 1))}
}

// Record adds one utilisation sample (0 to 1).
func (s *PoolSampler) Record(u float64) {
	s.mu.Lock()
	s.samples[s.next] = u
	s.next = (s.next + 1) % len(s.samples)
	if s.next == 0 {
		s.full = true
	}
	s.mu.Unlock()
}

// Summary returns the average and peak of the samples kept, and how many there are.
func (s *PoolSampler) Summary() (avg, peak float64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = s.next
	if s.full {
		n = len(s.samples)
	}
	sum := 0.0
	for _, u := range s.samples[:n] {
		sum += u
		peak = max(peak, u)
	}
	if n > 0 {
		avg = sum / float64(n)
	}
	return avg, peak, n
}

// Run samples d's pool every interval until ctx ends.
func (s *PoolSampler) Run(ctx context.Context, d *db.DB, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Record(utilisation(d))
		}
	}
}

func utilisation(d *db.DB) float64 {
	st := d.Pool().Stat()
	if st.MaxConns() <= 0 {
		return 0
	}
	return float64(st.AcquiredConns()) / float64(st.MaxConns())
}
