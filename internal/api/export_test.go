package api

// Routes lists the pattern of every route the server serves ("GET /api/v1/events"), in the order
// they were registered: the route table's, then any a test added with Handle. Tests that must
// cover every route walk it.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }
