package mariadb

import "context"

// QuoteString exposes the literal quoting to the tests.
func QuoteString(s string, noBackslashEscapes bool) (string, error) {
	return quoter{noBackslashEscapes: noBackslashEscapes}.str(s)
}

// CheckServer exposes the server check to the tests.
var CheckServer = checkServer

// QueryString runs a query returning one string in the session.
func (s *Session) QueryString(ctx context.Context, query string) (string, error) {
	var v string
	err := s.c.QueryRowContext(ctx, query).Scan(&v)
	return v, err
}
