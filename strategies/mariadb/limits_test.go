package mariadb_test

import (
	"strings"
	"testing"

	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// TestUsernameLimitFollowsEngineName: the MariaDB engine serves mysql and
// aurora-mysql documents with AWS's limit for those names.
func TestUsernameLimitFollowsEngineName(t *testing.T) {
	t.Parallel()
	for name, limit := range map[string]int{mariadb.EngineMariaDB: 80, mariadb.EngineMySQL: 32, mariadb.EngineAuroraMySQL: 32} {
		eng, err := builtin.Engines().Lookup(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := eng.Facts()
		if f.MaxUsername != limit || f.ExcludeCharacters != `/@"'\` || f.DefaultPort != 3306 || f.DefaultDatabase != "" {
			t.Fatalf("%s: facts %+v", name, f)
		}
		fits := strings.Repeat("u", limit-len(strategies.CloneSuffix))
		if _, err := strategies.AlternateUsername(fits, f); err != nil {
			t.Fatalf("%s: %d-character clone refused: %v", name, limit, err)
		}
		if _, err := strategies.AlternateUsername(fits+"u", f); err == nil || !strings.Contains(err.Error(), "at most") {
			t.Fatalf("%s: clone past the limit: %v", name, err)
		}
	}
}
