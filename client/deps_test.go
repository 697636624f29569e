package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientDependsOnLittle keeps the packages applications import free of
// rotor's rotation code, its local test world and package testing: of
// rotor, they may import only each other, the events package (the secret
// document) and internal/saslprep (password preparation for pgx).
func TestClientDependsOnLittle(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{
		"github.com/rotorhq/rotor/client":              true,
		"github.com/rotorhq/rotor/client/pgxclient":    true,
		"github.com/rotorhq/rotor/client/mysqlclient":  true,
		"github.com/rotorhq/rotor/client/lambdaissuer": true,
		"github.com/rotorhq/rotor/events":              true,
		// How PostgreSQL prepares a password for SCRAM, which pgxclient
		// needs to hand pgx the password PostgreSQL derives its keys from.
		"github.com/rotorhq/rotor/internal/saslprep": true,
	}
	for pkg := range allowed {
		if !strings.Contains(pkg, "/client") {
			continue
		}
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, d := range strings.Fields(string(out)) {
			switch {
			case d == "testing":
				t.Errorf("%s links package testing", pkg)
			case strings.HasPrefix(d, "github.com/rotorhq/rotor/") && !allowed[d]:
				t.Errorf("%s imports %s; applications must not link rotor's rotation code or its local world", pkg, d)
			case strings.HasPrefix(d, "github.com/aws/aws-lambda-go/lambda"):
				t.Errorf("%s links the Lambda runtime (%s)", pkg, d)
			}
		}
	}
}
