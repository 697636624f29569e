package alerting_test

import (
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbtest"
)

// The tests that need a rotation to succeed run rotor's real rotator
// against the shared PostgreSQL; stop it when they end.
func TestMain(m *testing.M) { dbtest.Main(m) }
