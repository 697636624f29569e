package awslocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/rotorhq/rotor/events"
)

// Invoker invokes a rotation function synchronously, as Lambda's
// RequestResponse invocation does. A function that ran and failed is reported
// as a *FunctionError; any other error means the function could not be
// reached.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// FunctionError is a function's own failure: Lambda's errorType and
// errorMessage.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// DefaultInvokeTimeout bounds one HTTPInvoker invocation when its Timeout
// is zero: Lambda's own maximum function timeout, 15 minutes.
const DefaultInvokeTimeout = 15 * time.Minute

// HTTPInvoker invokes a function over HTTP in the shape of Lambda's Invoke
// API and the Runtime Interface Emulator: POST URL with the event as the
// body. A function error is an X-Amz-Function-Error header or a JSON body
// holding errorMessage/errorType; a non-2xx status is an invocation failure.
//
// Each invocation is bounded by Timeout, as Lambda bounds a function by its
// configured timeout: a function that has not answered by then is a
// function error (*FunctionError, errorType "Sandbox.Timedout", as Lambda
// reports it), so the rotation step fails and the pass is retried instead
// of blocking the rotation forever.
type HTTPInvoker struct {
	URL    string
	Client *http.Client // nil means http.DefaultClient
	// Timeout of one invocation; zero means DefaultInvokeTimeout, negative
	// means none (only the caller's context ends it).
	Timeout time.Duration
}

// Invoke posts payload to URL and returns the function's response.
func (h *HTTPInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = DefaultInvokeTimeout
	}
	callCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, h.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	timedOut := func(err error) bool {
		return timeout > 0 && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) && err != nil
	}
	resp, err := c.Do(req)
	if timedOut(err) {
		return nil, &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())}
	}
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if timedOut(err) {
		return nil, &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())}
	}
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read response: %w", h.URL, err)
	}
	var fe FunctionError
	_ = json.Unmarshal(body, &fe)
	if resp.Header.Get("X-Amz-Function-Error") != "" || fe.Message != "" || fe.Type != "" {
		if fe.Message == "" && fe.Type == "" {
			fe.Type = resp.Header.Get("X-Amz-Function-Error")
			fe.Message = "function error"
		}
		return nil, &fe
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("invoke %s: HTTP %d", h.URL, resp.StatusCode)
	}
	return body, nil
}

// FuncInvoker runs a rotation handler in-process, for fast tests. An error
// the handler returns becomes a *FunctionError whose Type is the error's
// type name, as the Go Lambda runtime reports it.
type FuncInvoker func(ctx context.Context, e events.RotationEvent) error

// Invoke decodes the event and calls f.
func (f FuncInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var e events.RotationEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, &FunctionError{Type: "Runtime.UnmarshalError", Message: err.Error()}
	}
	if err := f(ctx, e); err != nil {
		return nil, &FunctionError{Type: errorTypeName(err), Message: err.Error()}
	}
	return []byte("null"), nil
}

func errorTypeName(err error) string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
