package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
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
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			wait := fs.Bool("wait", false, "")
			pos, err := parseInterspersed(fs, tc.args)
			if err != nil || !slices.Equal(pos, tc.wantPos) || *wait != tc.wantWait {
				t.Fatalf("pos %q wait %v err %v; want %q %v", pos, *wait, err, tc.wantPos, tc.wantWait)
			}
		})
	}
}
