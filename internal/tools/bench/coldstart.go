package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rotorhq/rotor/internal/lambdazip"
)

// ColdStartFigures are one bootstrap's.
type ColdStartFigures struct {
	Function string `json:"function"`
	// InitMsP50 and InitMsMin: process start to the first
	// GET /runtime/invocation/next, what Lambda bills as init.
	InitMsP50 float64 `json:"initMsP50"`
	InitMsMin float64 `json:"initMsMin"`
	// PeakRSSKB is the largest peak resident set over the runs, read at the
	// first next-event request.
	PeakRSSKB  int   `json:"peakRssKB"`
	BinaryByte int64 `json:"binaryBytes"`
	ZipBytes   int64 `json:"zipBytes"`
	Runs       int   `json:"runs"`
}

// helloPkg is the floor: a hello-world aws-lambda-go function;
// helloSIGTERMPkg is the same with the SIGTERM extension every rotor
// function registers, so the two rows show what that costs at init.
const (
	helloPkg        = "./internal/tools/bench/hello"
	helloSIGTERMPkg = "./internal/tools/bench/hellosigterm"
)

func measureColdStarts(ctx context.Context, o options) ([]ColdStartFigures, error) {
	dir, err := os.MkdirTemp("", "rotor-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fns, err := os.ReadDir(filepath.Join(o.moduleRoot, "functions"))
	if err != nil {
		return nil, err
	}
	pkgs := []string{helloPkg, helloSIGTERMPkg}
	for _, f := range fns {
		if f.IsDir() && (len(o.functions) == 0 || slices.Contains(o.functions, f.Name())) {
			pkgs = append(pkgs, "./functions/"+f.Name())
		}
	}
	// Build every bootstrap first, then start them in turns (hello, each
	// function, hello, ...): the machine's state drifts over a run (CPU
	// frequency, page cache, other work), and measuring each binary's runs
	// back to back would let that drift into the ratio to the floor.
	out := make([]ColdStartFigures, len(pkgs))
	bins := make([]string, len(pkgs))
	inits := make([][]time.Duration, len(pkgs))
	for i, pkg := range pkgs {
		bins[i] = filepath.Join(dir, filepath.Base(pkg))
		if err := buildBootstrap(ctx, o.moduleRoot, pkg, bins[i]); err != nil {
			return nil, err
		}
		f := ColdStartFigures{Function: filepath.Base(pkg), Runs: o.coldRuns}
		st, err := os.Stat(bins[i])
		if err != nil {
			return nil, err
		}
		f.BinaryByte = st.Size()
		if f.ZipBytes, err = zipSize(bins[i]); err != nil {
			return nil, err
		}
		out[i] = f
		// One start each, not counted, so that every binary is in the
		// page cache before the measured turns (a deployed function's
		// image is local to its execution environment too).
		if _, _, err := coldStart(ctx, bins[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", pkg, err)
		}
	}
	for range o.coldRuns {
		for i, pkg := range pkgs {
			d, kb, err := coldStart(ctx, bins[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pkg, err)
			}
			inits[i] = append(inits[i], d)
			out[i].PeakRSSKB = max(out[i].PeakRSSKB, kb)
		}
	}
	for i := range out {
		slices.Sort(inits[i])
		out[i].InitMsP50, out[i].InitMsMin = ms(percentile(inits[i], 50)), ms(inits[i][0])
	}
	return out, nil
}

// buildBootstrap builds pkg as the release does (internal/tools/release):
// static, -tags lambda.norpc, -trimpath, stripped (-s -w), for this
// machine's linux architecture so it can run here.
func buildBootstrap(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// zipSize is the size of the deployment zip the release makes of bin.
func zipSize(bin string) (int64, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return 0, err
	}
	z, err := lambdazip.Bootstrap(data)
	return int64(len(z)), err
}

// coldStart starts bin against a minimal Lambda Runtime API (with the
// Extensions API's register call, which lambda.WithEnableSIGTERM makes) and
// returns the time from exec to its first next-event request and its peak
// RSS then.
func coldStart(ctx context.Context, bin string) (time.Duration, int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	asked := make(chan time.Time, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- time.Now():
		default:
		}
		<-r.Context().Done() // no event: the figure is init only
	})
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Lambda-Extension-Identifier", "ext-1")
		io.WriteString(w, `{"functionName":"rotor","functionVersion":"1","handler":"bootstrap"}`)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln) //nolint:errcheck // closed below
	defer srv.Close()

	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=bench-secret-key", "AWS_SESSION_TOKEN=bench-token",
		"AWS_LAMBDA_FUNCTION_NAME=rotor", "AWS_LAMBDA_FUNCTION_VERSION=1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"SNS_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:rotor"}, functionEnv...)
	// What a function says when it refuses to start (its configuration
	// error) goes into the bench's error; the rest is discarded.
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &limitedWriter{w: &stderr, n: 4096}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}()
	select {
	case t := <-asked:
		kb, err := vmHWM(cmd.Process.Pid)
		return t.Sub(start), kb, err
	case err := <-exited:
		exited <- err // for the deferred reap
		return 0, 0, fmt.Errorf("%s exited before asking for an event: %s", filepath.Base(bin), strings.TrimSpace(stderr.String()))
	case <-time.After(30 * time.Second):
		return 0, 0, fmt.Errorf("%s never asked for an event", filepath.Base(bin))
	}
}

// functionEnv is the configuration every function gets besides Lambda's
// own variables: the lease functions (issuer, reaper) refuse to start
// without role definitions, so they get one (nothing is contacted at init).
var functionEnv = []string{
	"ADMIN_SECRET_ARNS=arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-admin-AbCdEf",
	`LEASE_ROLES=[{"name":"app","adminSecretArn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-admin-AbCdEf","groupRole":"app_rw","defaultTtlSeconds":3600,"maxTtlSeconds":86400,"engine":"postgres"}]`,
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if keep := min(len(p), l.n); keep > 0 {
		l.n -= keep
		if _, err := l.w.Write(p[:keep]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// vmHWM reads a process's peak resident set size in kB.
func vmHWM(pid int) (int, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
