package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchSmoke runs the bench with tiny counts (cold starts of the
// rotator and the two floors only; the stand-in section, which is go test
// -bench, left out) and checks the table and the JSON hold
// every section's figures. It asserts counts, never times.
func TestBenchSmoke(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "results.json")
	var table bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := run(ctx, options{rotations: 2, fleet: 4, coldRuns: 1, functions: []string{"rotator"}, out: out, skip: []string{"standin"}, moduleRoot: root}, &table, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rotations) != 4 || len(res.Fleet) != 2 || len(res.ColdStart) != 3 {
		t.Fatalf("sections: %d rotations, %d fleet, %d cold starts", len(res.Rotations), len(res.Fleet), len(res.ColdStart))
	}
	for _, r := range res.Rotations {
		if r.Calls["PutSecretValue"] != 1 || r.Calls["UpdateSecretVersionStage"] != 1 || r.Logins < 1 || r.Stmts < 1 {
			t.Errorf("%s %s: %+v", r.Engine, r.Strategy, r)
		}
	}
	for _, f := range res.Fleet {
		if f.Succeeded != 4 || f.PeakWritesRolling < 1 || f.PeakDBConnections < 1 {
			t.Errorf("fleet %+v", f)
		}
	}
	for _, want := range []string{"Per rotation", "Cold start", "hello", "rotator", "Fleet through rotate-now"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var back Results
	b, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(b, &back) != nil || len(back.Rotations) != 4 {
		t.Fatalf("results.json: %v\n%s", err, b)
	}
}
