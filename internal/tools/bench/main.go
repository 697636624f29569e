// Command bench measures rotor and prints the figures docs/performance.md
// and docs/scale.md quote: a table on stdout and every figure in
// bench/results.json. `make bench` runs it; it is not a test and asserts
// nothing about time, but it fails when a measured rotation fails.
//
// Sections (each can be skipped with -skip name,...):
//
//   - rotations: per rotation, for single-user and alternating-users on
//     PostgreSQL and MariaDB (throwaway servers with password auth and
//     verify-full TLS, the local Secrets Manager, the real rotator
//     in-process): Secrets Manager calls by operation, logins, statements
//     the server logged, wall time p50/p95/p99 over -rotations rotations;
//   - coldstart: every function under functions/ and a hello-world
//     aws-lambda-go bootstrap (internal/tools/bench/hello, and hellosigterm
//     with the SIGTERM extension), built the way
//     the release is, started against a minimal Lambda Runtime API: process
//     start to its first next-event request (what Lambda counts as init),
//     peak RSS, binary and zip sizes;
//   - fleet: -fleet secrets through rotate-now at the default write budget
//     and at the quota: total time, rotations per second, peak writes per
//     second at the stand-in, peak database connections;
//   - standin: the stand-in with a state file at 100 / 1,000 / 10,000
//     secrets (BenchmarkStandInAtScale in internal/local/awslocal).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Results is bench/results.json.
type Results struct {
	Date      time.Time          `json:"date"`
	GoVersion string             `json:"goVersion"`
	CPUs      int                `json:"cpus"`
	LoadAvg   string             `json:"loadAvg,omitempty"`
	Rotations []RotationFigures  `json:"rotations,omitempty"`
	ColdStart []ColdStartFigures `json:"coldStart,omitempty"`
	Fleet     []FleetFigures     `json:"fleet,omitempty"`
	StandIn   []StandInFigures   `json:"standIn,omitempty"`
}

type options struct {
	rotations  int
	fleet      int
	coldRuns   int
	scaleTime  string
	out        string
	skip       []string
	moduleRoot string
	// functions limits the cold starts to these functions (all when
	// empty); the hello-world floor is always measured.
	functions []string
}

func main() {
	var o options
	var skip string
	flag.IntVar(&o.rotations, "rotations", 200, "rotations measured per strategy and engine")
	flag.IntVar(&o.fleet, "fleet", 1000, "secrets in the rotate-now fleet runs")
	flag.IntVar(&o.coldRuns, "cold-runs", 20, "cold starts measured per function")
	flag.StringVar(&o.scaleTime, "standin-benchtime", "200x", "go test -benchtime for the stand-in at scale")
	flag.StringVar(&o.out, "out", "bench/results.json", "where to write the figures")
	flag.StringVar(&skip, "skip", "", "sections to skip: rotations,coldstart,fleet,standin")
	flag.Parse()
	if skip != "" {
		o.skip = strings.Split(skip, ",")
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	o.moduleRoot = root
	if _, err := run(context.Background(), o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run measures every section not skipped, prints the tables to out and
// writes o.out.
func run(ctx context.Context, o options, out, progress io.Writer) (*Results, error) {
	res := &Results{Date: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	// A section that fails is reported; the others' figures are still
	// printed and written.
	var errs []error
	section := func(name string, measure func() error) {
		if slices.Contains(o.skip, name) {
			return
		}
		fmt.Fprintf(progress, "bench: %s ...\n", name)
		if err := measure(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	section("coldstart", func() (err error) { res.ColdStart, err = measureColdStarts(ctx, o); return })
	section("rotations", func() (err error) { res.Rotations, err = measureRotations(ctx, o, progress); return })
	section("fleet", func() (err error) { res.Fleet, err = measureFleet(ctx, o, progress); return })
	section("standin", func() (err error) { res.StandIn, err = measureStandIn(ctx, o); return })
	printTables(out, res)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nfigures written to %s\n", o.out)
	return res, errors.Join(errs...)
}

// moduleRoot is the directory holding go.mod, from the working directory
// up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// percentile returns the p-th percentile (0-100) of sorted durations, by
// the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
