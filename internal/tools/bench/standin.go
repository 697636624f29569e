package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
)

// StandInFigures is one line of BenchmarkStandInAtScale.
type StandInFigures struct {
	Benchmark string  `json:"benchmark"`
	MsPerOp   float64 `json:"msPerRequest"`
}

var benchLine = regexp.MustCompile(`^(BenchmarkStandInAtScale\S*?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// measureStandIn runs the stand-in's own benchmark (it needs the
// awslocal package's internals) and collects its lines.
func measureStandIn(ctx context.Context, o options) ([]StandInFigures, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "StandInAtScale", "-benchtime", o.scaleTime, "./internal/local/awslocal/")
	cmd.Dir = o.moduleRoot
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -bench StandInAtScale: %w\n%s", err, b)
	}
	var out []StandInFigures
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := benchLine.FindStringSubmatch(sc.Text()); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			out = append(out, StandInFigures{Benchmark: m[1], MsPerOp: ns / 1e6})
		}
	}
	return out, nil
}
