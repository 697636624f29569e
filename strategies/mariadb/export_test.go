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

// Redact exposes the hash scrubbing of server errors to the tests.
var Redact = redact

// RevokeOnSchema runs the sync's revoke step for privs on schema.* against
// user@host, as SyncAlternate would after reading the catalog.
func (s *Session) RevokeOnSchema(ctx context.Context, schema string, privs []string, user, host string) ([]string, error) {
	a := account{user: user, host: host}
	acct, err := s.q.account(a)
	if err != nil {
		return nil, err
	}
	return s.revoke(ctx, object{level: levelSchema, schema: schema}, privs, acct, a)
}
