package main

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

// Flags may come before, between or after the SECRET arguments ("rotor
// rotate db1 --wait db2"); "--" ends the flags.
func TestFlagsInterspersed(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		args     []string
		wantPos  []string
		wantWait bool
	}{
		"flags last":    {[]string{"a", "b", "--wait"}, []string{"a", "b"}, true},
		"flags between": {[]string{"a", "--wait", "b"}, []string{"a", "b"}, true},
		"flags first":   {[]string{"--wait", "a"}, []string{"a"}, true},
		"double dash":   {[]string{"a", "--", "--wait"}, []string{"a", "--wait"}, false},
		"no flags":      {[]string{"a"}, []string{"a"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var (
				a   awsFlags
				pos []string
			)
			cmd := &cobra.Command{Use: "t"}
			wait := cmd.Flags().Bool("wait", false, "")
			awsCommand(cmd, &a, 1, -1, func(_ context.Context, args []string) error {
				pos = args
				return nil
			})
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			err := cmd.ExecuteContext(context.Background())
			if err != nil || !slices.Equal(pos, tc.wantPos) || *wait != tc.wantWait {
				t.Fatalf("pos %q wait %v err %v; want %q %v", pos, *wait, err, tc.wantPos, tc.wantWait)
			}
		})
	}
}
