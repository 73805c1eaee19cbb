package live

import (
	"sync"
	"testing"
)

// BenchmarkHubPublish1000 publishes to 1 000 subscribers of one category, each drained by its own
// goroutine as a stream would: the hub's cost of one change reaching 1 000 open boards.
func BenchmarkHubPublish1000(b *testing.B) {
	h := NewHub(0, nil)
	var wg sync.WaitGroup
	for range 1000 {
		ch, cancel := h.Subscribe("t", "c")
		defer cancel()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
			}
		}()
	}
	e := Event{Kind: KindScore, TenantID: "t", CategoryID: "c", ContestID: "k", ID: "j"}
	b.ReportAllocs()
	for b.Loop() {
		h.Publish(e)
	}
	b.StopTimer()
	h.Close()
	wg.Wait()
}
