package api

// RoutePatterns lists every route of the server, as registered, for tests that must cover them all.
func RoutePatterns(s *Server) []string { return append([]string(nil), s.patterns...) }
