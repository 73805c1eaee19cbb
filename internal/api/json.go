package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/eventmanager/eventmanager/internal/jsonappend"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

const maxBodyBytes = 1 << 20 // 1 MiB

// jsonV1 makes the encoder write what encoding/json writes, byte for byte (HTML-safe escaping,
// sorted map keys, MarshalJSON methods, time.Time as RFC 3339): the v2 encoder does it with half the
// CPU and without an allocation per time value (docs/performance.md, Go-side cost of a request).
var jsonV1 = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv2.WithMarshalers(jsonv2.MarshalToFunc(encodeNumber)))

// encodeNumber writes a json.Number as encoding/json does: the number itself ("" as 0), refused if
// it is not one. The v2 encoder does not know encoding/json's Number and would write a string.
func encodeNumber(enc *jsontext.Encoder, n json.Number) error {
	if n == "" {
		n = "0"
	}
	return enc.WriteValue(jsontext.Value(n))
}

// responseBuffers hold answers while they are encoded, so that each is sent in one write with its
// Content-Length (no chunked encoding) from a buffer that is reused.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps an occasional large answer (a report) from pinning its memory in the pool.
const maxPooledBuffer = 256 << 10

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := responseBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			responseBuffers.Put(buf)
		}
	}()
	if err := encodeJSON(buf, v); err != nil {
		// A value JSON cannot hold (NaN, a channel) is a bug: the answer must still be JSON.
		buf.Reset()
		buf.WriteString(`{"error":{"code":"INTERNAL","message":"internal error"}}`)
		status = http.StatusInternalServerError
	}
	buf.WriteByte('\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// jsonAppender is a value that appends its own JSON, byte for byte what the encoder would write
// (the tests compare the two), without reflection.
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// encodeJSON writes v to buf: through its own AppendJSON when it has one, else the encoder.
func encodeJSON(buf *bytes.Buffer, v any) error {
	if a, ok := v.(jsonAppender); ok {
		if b, err := a.AppendJSON(buf.AvailableBuffer()); err == nil {
			buf.Write(b)
			return nil
		}
		buf.Reset() // the encoder answers the value the appender refused, with its own error
	}
	return jsonv2.MarshalWrite(buf, v, jsonV1)
}

// errNoAppender: the page's rows have no AppendJSON; the encoder writes the page.
var errNoAppender = errors.New("api: rows without AppendJSON")

// AppendJSON appends the page when its rows append their own JSON (*T has AppendJSON).
func (l listResponse[T]) AppendJSON(b []byte) ([]byte, error) {
	var zero T
	if _, ok := any(&zero).(jsonAppender); !ok {
		return b, errNoAppender
	}
	if l.Data == nil {
		b = append(b, `{"data":null`...)
	} else {
		b = append(b, `{"data":[`...)
	}
	var err error
	for i := range l.Data {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = any(&l.Data[i]).(jsonAppender).AppendJSON(b); err != nil {
			return b, err
		}
	}
	if l.Data != nil {
		b = append(b, ']')
	}
	b = append(b, `,"next_cursor":`...)
	if l.NextCursor == nil {
		b = append(b, "null"...)
	} else {
		b = jsonappend.String(b, *l.NextCursor)
	}
	return append(b, '}'), nil
}

// decodeJSON reads a JSON object body into dst: JSON only, at most 1 MiB, unknown fields refused,
// nothing after the object. The UUIDs of its id fields are put in lower case (see ids.go).
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE", Message: "the body must be application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("INVALID_JSON", "", "the body must hold a single JSON object")
	}
	canonicalBodyIDs(reflect.ValueOf(dst), false)
	return nil
}

func jsonError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "BODY_TOO_LARGE", Message: "the body is larger than 1 MiB"}
	case errors.Is(err, io.EOF):
		return badRequest("INVALID_JSON", "", "the body is empty: a JSON object is required")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("INVALID_JSON", "", "the body is not valid JSON")
	case errors.As(err, &typeErr):
		return badRequest("VALIDATION_FAILED", typeErr.Field, "has the wrong type: want "+typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest("UNKNOWN_FIELD", field, "unknown field")
	}
	return badRequest("INVALID_JSON", "", "the body is not valid JSON")
}

// decodeOptionalJSON is decodeJSON for a body that may be left out: an empty body leaves dst as it is.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeJSON(w, r, dst)
}
