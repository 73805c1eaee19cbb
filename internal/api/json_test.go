package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// writeJSON writes what encoding/json writes, byte for byte, with its Content-Length.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 1, 9, 0, 0, 123000, time.UTC)
	next := "abc"
	events := listResponse[store.Event]{NextCursor: &next}
	for range 3 {
		events.Data = append(events.Data, store.Event{ID: "0b9d7c2e-1111-2222-3333-444455556666", Name: "Gala <&> \u2028 é",
			StartDate: at, EndDate: at.Add(time.Hour), CreatedAt: at, UpdatedAt: at.In(time.FixedZone("x", 3600))})
	}
	one := 1
	for _, v := range []any{
		events,
		listResponse[store.Event]{Data: []store.Event{}},
		listResponse[store.Event]{}, // nil rows: "data":null, as the encoder writes them
		listResponse[store.Event]{Data: []store.Event{{ID: "\xff\x01\"\\", Description: "a\u2029b\n", Archived: true,
			StartDate: at.In(time.FixedZone("y", -5*3600-1800))}}},
		listResponse[store.Contest]{Data: []store.Contest{{ID: "c", Name: "rows without AppendJSON"}}},
		map[string]any{"z": 1, "a": 2.5, "m": nil, "k": []any{}, "big": int64(1) << 60, "f": 1e21, "n": json.Number("7.50")},
		struct {
			N json.Number  `json:"n"`
			E json.Number  `json:"e"`
			P *json.Number `json:"p"`
		}{N: "12.5", E: ""},
		struct {
			Raw  json.RawMessage `json:"raw"`
			Nil  []string        `json:"nil"`
			Omit *int            `json:"omit,omitempty"`
			P    *int            `json:"p"`
			B    []byte          `json:"b"`
		}{Raw: json.RawMessage(`{"b": 2,  "a" : [1, 2]}`), P: &one, B: []byte("hi")},
		errorBody{Error: errorDetail{Code: "X", Message: "y"}},
	} {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		want = append(want, '\n')
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusOK, v)
		require.Equal(t, string(want), rec.Body.String())
		require.Equal(t, strconv.Itoa(len(want)), rec.Header().Get("Content-Length"))
		require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	}
}

// A value JSON cannot hold is a 500 with the error envelope, still JSON.
func TestWriteJSONOfAnUnencodableValue(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, map[string]float64{"x": math.NaN()})
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.True(t, json.Valid(bytes.TrimSpace(rec.Body.Bytes())), rec.Body.String())
	rec = httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, map[string]json.Number{"x": "1e"})
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	// A time encoding/json refuses is refused on the appending path too, not written half.
	rec = httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, listResponse[store.Event]{Data: []store.Event{{StartDate: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}})
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.True(t, json.Valid(bytes.TrimSpace(rec.Body.Bytes())), rec.Body.String())
}
