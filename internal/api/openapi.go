package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/docs"
)

// openAPI answers the API's description, docs/openapi.yaml, as JSON.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	b, err := docs.OpenAPIJSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
	return nil
}
