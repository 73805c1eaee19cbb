// Package docs carries the API description, openapi.yaml beside this file, into the binary: the
// server answers it at GET /api/v1/openapi.json, and the tests check the server against it. The
// rest of this folder is prose for people.
package docs

import (
	_ "embed"
	"encoding/json"
	"sync"

	"go.yaml.in/yaml/v3"
)

// OpenAPIYAML is docs/openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPIJSON is the same document as JSON, converted once.
var OpenAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})
