package main

import (
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/version"
)

func TestVersionFlag(t *testing.T) {
	old := version.Version
	version.Version = "v1.2.3"
	t.Cleanup(func() { version.Version = old })
	for _, arg := range []string{"--version", "version"} {
		code, out, errOut := cli(t, arg)
		if code != 0 || strings.TrimSpace(out) != "rotor v1.2.3" || errOut != "" {
			t.Errorf("rotor %s = %d, %q, %q; want 0 and \"rotor v1.2.3\"", arg, code, out, errOut)
		}
	}
}
