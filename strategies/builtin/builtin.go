// Package builtin is the one place that knows which database engines this
// rotor build ships. Everything else reaches an engine through the registry
// it returns, keyed by the secret document's "engine" value, so adding an
// engine is a package, one line here, and the conformance suite.
package builtin

import (
	"github.com/rotorhq/rotor/strategies/engine"
	"github.com/rotorhq/rotor/strategies/mariadb"
	"github.com/rotorhq/rotor/strategies/postgres"
)

// Engines returns a registry of the engines this build ships.
func Engines() *engine.Registry {
	r := &engine.Registry{}
	r.Register(postgres.Engine{})
	r.Register(mariadb.New())
	r.Register(mariadb.NewForMySQLDocuments())
	return r
}
