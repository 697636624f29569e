package alerting_test

import (
	"testing"

	"github.com/rotorhq/rotor/internal/testdb"
)

// The tests that need a rotation to succeed run rotor's real rotator
// against the shared PostgreSQL; stop it when they end.
func TestMain(m *testing.M) { testdb.Main(m) }
