package mariadb_test

import (
	"strings"
	"testing"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/strategies"
)

// TestUsernameLimitFollowsEngineName: one engine serves the MySQL family,
// with AWS's limit for the document's engine name.
func TestUsernameLimitFollowsEngineName(t *testing.T) {
	t.Parallel()
	for engine, limit := range map[string]int{events.EngineMariaDB: 80, events.EngineMySQL: 32, events.EngineAuroraMySQL: 32} {
		eng, err := strategies.DefaultEngines().For(&events.SecretDocument{Engine: engine})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if eng.MaxUsernameBytes() != limit || eng.DefaultExcludeCharacters() != `/@"'\` {
			t.Fatalf("%s: limit %d, exclusions %q", engine, eng.MaxUsernameBytes(), eng.DefaultExcludeCharacters())
		}
		fits := strings.Repeat("u", limit-len(strategies.CloneSuffix))
		if _, err := strategies.AlternateUsername(fits, limit); err != nil {
			t.Fatalf("%s: %d-character clone refused: %v", engine, limit, err)
		}
		if _, err := strategies.AlternateUsername(fits+"u", limit); err == nil || !strings.Contains(err.Error(), "at most") {
			t.Fatalf("%s: clone past the limit: %v", engine, err)
		}
	}
}
