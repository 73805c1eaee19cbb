package live

import (
	"bufio"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Heartbeat is how often a silent stream gets a comment line, so that proxies keep it open and a
// client that has gone is noticed.
const Heartbeat = 15 * time.Second

// writeTimeout bounds each write to the client: a client that stops reading is let go.
const writeTimeout = 10 * time.Second

// retryMillis is what the browser waits before reconnecting a broken EventSource.
const retryMillis = 2000

// ServeSSE writes events to the client as server-sent events until the client goes, the channel
// is closed, or a write fails. Each event is one frame: its Seq as id, its Kind as event name, and
// the Event as JSON data. The caller cancels its subscription when ServeSSE returns.
//
// The server's read and write deadlines are cleared (a stream outlives them by design); each
// write gets its own deadline instead.
func ServeSSE(w http.ResponseWriter, r *http.Request, events <-chan Event) {
	serveSSE(w, r, events, Heartbeat)
}

func serveSSE(w http.ResponseWriter, r *http.Request, events <-chan Event, heartbeat time.Duration) {
	rc := http.NewResponseController(w)
	// The server's ReadTimeout would otherwise end the connection (and cancel the request's
	// context) while the client, as it should, sends nothing more.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx must not hold the frames back
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 1024)
	write := func(frame func(*bufio.Writer)) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		frame(bw)
		if bw.Flush() != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(func(b *bufio.Writer) { b.WriteString("retry: " + strconv.Itoa(retryMillis) + "\n: connected\n\n") }) {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			data, err := e.JSON()
			if err != nil {
				return
			}
			if !write(func(b *bufio.Writer) { writeFrame(b, e, data) }) {
				return
			}
			tick.Reset(heartbeat)
		case <-tick.C:
			if !write(func(b *bufio.Writer) { b.WriteString(": heartbeat\n\n") }) {
				return
			}
		}
	}
}

// writeFrame writes one SSE frame. JSON has no raw newline, so data is a single line.
func writeFrame(b *bufio.Writer, e Event, data []byte) {
	b.WriteString("id: ")
	b.WriteString(strconv.FormatUint(e.Seq, 10))
	b.WriteString("\nevent: ")
	b.WriteString(e.Kind)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
}
