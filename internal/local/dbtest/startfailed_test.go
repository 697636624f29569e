package dbtest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// recorder is a testing.TB that records how a helper failed the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) SkipNow() {
	r.skip = "SkipNow"
	runtime.Goexit()
}

func TestStartFailedNamesInstallCommand(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{
			name: "postgres missing",
			err:  fmt.Errorf("start postgres: %w", &dbserver.MissingBinaryError{Binary: "initdb", Package: "postgresql"}),
			want: []string{"apt-get install -y postgresql", "scripts/ensure-deps.sh postgres"},
		},
		{
			name: "mariadb missing",
			err:  fmt.Errorf("start mariadb: %w", &dbserver.MissingBinaryError{Binary: "mariadbd", Package: "mariadb-server"}),
			want: []string{"apt-get install -y mariadb-server", "scripts/ensure-deps.sh mariadb"},
		},
		{
			name: "other failure",
			err:  errors.New("start postgres: not ready"),
			want: []string{"not ready"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			kind, arg := "PostgreSQL", "postgres"
			if strings.Contains(tc.name, "mariadb") {
				kind, arg = "MariaDB", "mariadb"
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				startFailed(r, kind, arg, tc.err)
			}()
			<-done
			if r.skip != "" {
				t.Fatalf("startFailed skipped the test (%q); it must fail it", r.skip)
			}
			if r.fatal == "" {
				t.Fatal("startFailed did not fail the test")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.fatal, w) {
					t.Errorf("failure message lacks %q:\n%s", w, r.fatal)
				}
			}
		})
	}
}
