package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/config"
)

// RotateNowFunction is the rotatenow Lambda function's handler, apart from
// the runtime wiring.
type RotateNowFunction struct {
	// Defaults are the options a request does not override; Secrets is
	// required.
	Defaults RotateNowOptions
	Logger   *slog.Logger
}

// deadlineMargin is kept free before the Lambda deadline so the response
// (every result, timed_out ones included) is sent before the runtime stops
// the function.
const deadlineMargin = 3 * time.Second

// LoadRotateNowDefaults reads the function's settings through getenv:
// ROTATE_NOW_CONCURRENCY, ROTATE_NOW_TIMEOUT_SECONDS and
// ROTATE_NOW_WRITES_PER_SECOND. An invalid value is an error naming the
// variable.
func LoadRotateNowDefaults(getenv func(string) string) (RotateNowOptions, error) {
	var o RotateNowOptions
	if v := strings.TrimSpace(getenv(config.EnvRotateNowConcurrency)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > events.MaxRotateNowConcurrency {
			return o, fmt.Errorf("%s=%q: want a whole number from 1 to %d", config.EnvRotateNowConcurrency, v, events.MaxRotateNowConcurrency)
		}
		o.Concurrency = n
	}
	if v := strings.TrimSpace(getenv(config.EnvRotateNowTimeoutSeconds)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > events.MaxRotateNowTimeoutSeconds {
			return o, fmt.Errorf("%s=%q: want a whole number of seconds from 1 to %d", config.EnvRotateNowTimeoutSeconds, v, events.MaxRotateNowTimeoutSeconds)
		}
		o.Timeout = time.Duration(n) * time.Second
	}
	if v := strings.TrimSpace(getenv(config.EnvRotateNowWritesPerSecond)); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err == nil {
			err = events.ValidateWritesPerSecond(n)
		} else {
			err = fmt.Errorf("want a number of writes per second from %d to %d", events.MinWritesPerSecond, events.WriteQuotaPerSecond)
		}
		if err != nil {
			return o, fmt.Errorf("%s=%q: %w", config.EnvRotateNowWritesPerSecond, v, err)
		}
		o.WritesPerSecond = n
	}
	return o, nil
}

// Handle decodes a request, rotates the secrets it names and returns one
// result per secret.
//
// Error semantics: a malformed request is an error and rotates nothing.
// Otherwise, when any result is not succeeded (or started, without wait),
// Handle returns the response and a *RotateNowError listing those results,
// so an invocation that only reports errors (Terraform's
// aws_lambda_invocation) fails with the reasons; Lambda then drops the
// response, so the full response is also logged as one JSON line
// ("rotate-now finished", field "response") in every case.
func (f *RotateNowFunction) Handle(ctx context.Context, payload json.RawMessage) (events.RotateNowResponse, error) {
	log := f.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	req, err := events.ParseRotateNowRequest(payload)
	if err != nil {
		log.Error("rotate-now request refused", "error", err.Error())
		return events.RotateNowResponse{}, fmt.Errorf("rotate-now request: %w", err)
	}
	opts := f.Defaults
	opts.Wait = req.Wait
	if req.TimeoutSeconds > 0 {
		opts.Timeout = time.Duration(req.TimeoutSeconds) * time.Second
	}
	if req.Concurrency > 0 {
		opts.Concurrency = req.Concurrency
	}
	if req.WritesPerSecond > 0 {
		opts.WritesPerSecond = req.WritesPerSecond
	}
	if opts.WritesPerSecond <= 0 {
		opts.WritesPerSecond = events.DefaultWritesPerSecond
	}
	if req.FailureGraceSeconds > 0 {
		opts.FailureGrace = time.Duration(req.FailureGraceSeconds) * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - deadlineMargin; left < opts.Timeout {
			opts.Timeout = max(left, time.Second)
		}
	}
	ids := req.SecretIDs
	if len(req.Filters) > 0 {
		if ids, err = ListSecretIDs(ctx, opts.Secrets, req.Filters); err != nil {
			log.Error("rotate-now could not list secrets", "error", err.Error())
			return events.RotateNowResponse{}, err
		}
	}
	log.Info("rotate-now started", "secrets", len(ids), "wait", opts.Wait, "timeout_s", opts.Timeout.Seconds(), "concurrency", opts.Concurrency, "writes_per_second", opts.WritesPerSecond, "failure_grace_s", opts.FailureGrace.Seconds())
	opts.Progress = func(p Progress) {
		if p.Kind == ProgressThrottled {
			log.Warn("rotate-now throttled by Secrets Manager; pace halved", "writes_per_second", p.WritesPerSecond)
		}
		if p.Kind == ProgressAttemptFailed {
			log.Warn("rotate-now attempt failed; waiting for Secrets Manager's retry", "secret_id", p.SecretID, "version_id", p.VersionID, "failed_step", p.Step, "reason", p.Reason)
		}
		if p.Kind == ProgressDone {
			r := p.Result
			log.Info("rotate-now result", "secret_id", r.SecretID, "status", r.Status, "version_id", r.VersionID, "failed_step", r.FailedStep, "reason", r.Reason, "duration_ms", r.DurationMs)
		}
	}
	resp := events.NewRotateNowResponse(RotateNow(ctx, opts, ids))
	log.Info("rotate-now finished", "ok", resp.OK(), "counts", resp.Counts, "response", resp)
	if !resp.OK() {
		return resp, &RotateNowError{Response: resp}
	}
	return resp, nil
}
