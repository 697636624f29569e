package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/local/rietest"
)

// BenchmarkColdStart measures what a new Lambda container pays before the
// rotator does any work: from exec of the built bootstrap to its first
// request for an event (init-ms), to its answer to that event (first-ms),
// and the process's peak resident memory (rss-MB). The bootstrap talks to a
// minimal Lambda Runtime API served here, so the figures exclude the
// emulator's own start. The event is a malformed one, answered without any
// network call. AWS's Python templates pay about 0.55 s and 49 MB for their
// imports alone (rotation.md). Reproduce with:
//
//	go test -run '^$' -bench ColdStart -benchtime 20x ./functions/rotator/
func BenchmarkColdStart(b *testing.B) {
	bootstrap := rietest.Build(b, "./functions/rotator")
	var initTotal, firstTotal time.Duration
	var peakKB int
	for range b.N {
		i, f, kb := coldStart(b, bootstrap)
		initTotal += i
		firstTotal += f
		peakKB = max(peakKB, kb)
	}
	b.ReportMetric(float64(initTotal.Microseconds())/1000/float64(b.N), "init-ms")
	b.ReportMetric(float64(firstTotal.Microseconds())/1000/float64(b.N), "first-ms")
	b.ReportMetric(float64(peakKB)/1024, "rss-MB")
}

func coldStart(b *testing.B, bootstrap string) (initDur, firstDur time.Duration, peakKB int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	asked := make(chan time.Time, 1)
	answered := make(chan time.Time, 1)
	mux := http.NewServeMux()
	sent := false
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		if sent {
			<-r.Context().Done() // hold later polls until shutdown
			return
		}
		sent = true
		asked <- time.Now()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		io.WriteString(w, `{"Step":"bogusStep","SecretId":"x","ClientRequestToken":"00000000-0000-4000-8000-000000000000"}`)
	})
	done := func(w http.ResponseWriter, r *http.Request) {
		answered <- time.Now()
		w.WriteHeader(http.StatusAccepted)
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/req-1/response", done)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/req-1/error", done)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	cmd := exec.Command(bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=rotor", "AWS_LAMBDA_FUNCTION_VERSION=1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	timeout := time.After(30 * time.Second)
	var t1, t2 time.Time
	select {
	case t1 = <-asked:
	case <-timeout:
		b.Fatal("bootstrap never asked for an event")
	}
	select {
	case t2 = <-answered:
	case <-timeout:
		b.Fatal("bootstrap never answered")
	}
	return t1.Sub(start), t2.Sub(start), vmHWM(b, cmd.Process.Pid)
}

// vmHWM reads a process's peak resident set size in kB.
func vmHWM(b *testing.B, pid int) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
