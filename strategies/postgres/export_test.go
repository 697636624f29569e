package postgres

import "context"

// CheckParityAskingMore runs checkParity, in a transaction rolled back
// afterwards, asking clone for what it has (when more is false) or for
// more than it has: CREATEDB toggled, CONNECTION LIMIT 3 and membership in
// base.
func (s *Session) CheckParityAskingMore(ctx context.Context, base, clone string, more bool) error {
	tx, err := s.c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	attrs, _, err := readAttrs(ctx, tx, clone)
	if err != nil {
		return err
	}
	want := map[string]grantOpts{}
	if more {
		attrs.createDB = !attrs.createDB
		attrs.connLimit = 3
		want[base] = grantOpts{inherit: true, set: true}
	}
	return checkParity(ctx, tx, base, clone, attrs, want, false)
}
