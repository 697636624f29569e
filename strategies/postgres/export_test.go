package postgres

import (
	"context"
	"maps"
)

// CheckParityAskingMore runs checkParity on clone as factsSQL reads it,
// asking for what it has (when more is false) or for more than it has:
// CREATEDB toggled, CONNECTION LIMIT 3 and membership in base.
func (s *Session) CheckParityAskingMore(ctx context.Context, base, clone string, more bool) error {
	f, err := scanFacts(s.c.QueryRow(ctx, factsSQL, base, clone))
	if err != nil {
		return err
	}
	attrs := f.clone.attrs
	want := maps.Clone(f.clone.memberOf)
	if more {
		attrs.createDB = !attrs.createDB
		attrs.connLimit = 3
		want[base] = grantOpts{inherit: true, set: true}
	}
	return checkParity(base, clone, f.clone, attrs, want)
}
