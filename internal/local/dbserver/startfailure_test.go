package dbserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

func TestStartFailureShowsLogTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		start func(context.Context) error
		want  []string // in the error
	}{
		{
			name: "postgres with a bad setting",
			start: func(ctx context.Context) error {
				pg, err := dbserver.StartPostgres(ctx, dbserver.PostgresOptions{
					DisableTLS: true,
					Settings:   map[string]string{"shared_buffers": "'lots'"},
				})
				if err == nil {
					pg.Stop()
				}
				return err
			},
			want: []string{"postgres exited during startup", "--- last lines of", `"shared_buffers"`},
		},
		{
			name: "mariadb with a bad option",
			start: func(ctx context.Context) error {
				m, err := dbserver.StartMariaDB(ctx, dbserver.MariaDBOptions{
					DisableTLS: true,
					Args:       []string{"--no-such-option-for-rotor"},
				})
				if err == nil {
					m.Stop()
				}
				return err
			},
			want: []string{"mariadbd exited during startup", "--- last lines of", "no-such-option-for-rotor"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.start(context.Background())
			if err == nil {
				t.Fatal("start succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
