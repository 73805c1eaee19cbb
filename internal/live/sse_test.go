package live

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sseFrame is one frame read from a stream: its fields, or a comment.
type sseFrame struct {
	id, event, data, comment string
}

func readFrame(t *testing.T, r *bufio.Reader) sseFrame {
	t.Helper()
	var f sseFrame
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if f != (sseFrame{}) {
				return f
			}
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		switch k {
		case "id":
			f.id = v
		case "event":
			f.event = v
		case "data":
			f.data = v
		case "":
			f.comment = v
		}
	}
}

func TestServeSSEFramesHeadersHeartbeatAndEnd(t *testing.T) {
	t.Parallel()
	events := make(chan Event, 1)
	handlerDone := make(chan struct{})
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		serveSSE(w, r, events, 50*time.Millisecond)
	}))
	// Shorter than the test: the stream must outlive the server's deadlines.
	ts.Config.ReadTimeout = 100 * time.Millisecond
	ts.Config.WriteTimeout = 100 * time.Millisecond
	ts.Start()
	defer ts.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	br := bufio.NewReader(resp.Body)
	require.Equal(t, "connected", readFrame(t, br).comment)

	// Heartbeats keep coming for longer than both server timeouts.
	deadline := time.Now().Add(400 * time.Millisecond)
	for time.Now().Before(deadline) {
		require.Equal(t, "heartbeat", readFrame(t, br).comment)
	}
	events <- Event{Kind: KindScore, TenantID: "t", CategoryID: "c", ID: "j", Seq: 42}
	var f sseFrame
	for f = readFrame(t, br); f.comment == "heartbeat"; f = readFrame(t, br) {
	}
	require.Equal(t, "42", f.id)
	require.Equal(t, "score", f.event)
	require.JSONEq(t, `{"kind":"score","tenant_id":"t","category_id":"c","id":"j"}`, f.data)

	// The client goes: the handler ends.
	cancel()
	select {
	case <-handlerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still running after the client went")
	}
}

func TestServeSSEEndsWhenChannelCloses(t *testing.T) {
	t.Parallel()
	events := make(chan Event)
	close(events)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	ServeSSE(rec, req, events) // returns: nothing to wait for
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), ": connected\n\n")
}
