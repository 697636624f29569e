package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRotateNowRequestFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"rotatenow_request_ids.json", "rotatenow_request_filters.json"} {
		t.Run(name, func(t *testing.T) {
			raw := readFixture(t, name)
			req, err := ParseRotateNowRequest(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			out, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, raw, out) {
				t.Fatalf("round trip changed the request:\n%s\n%s", raw, out)
			}
		})
	}
	req, _ := ParseRotateNowRequest(readFixture(t, "rotatenow_request_ids.json"))
	if len(req.SecretIDs) != 2 || !req.Wait || req.TimeoutSeconds != 300 || req.Concurrency != 4 || req.WritesPerSecond != 10 {
		t.Fatalf("decoded %+v", req)
	}
}

func TestRotateNowResponseFixture(t *testing.T) {
	t.Parallel()
	raw := readFixture(t, "rotatenow_response.json")
	var resp RotateNowResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	rebuilt := NewRotateNowResponse(resp.Results)
	out, err := json.Marshal(rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, raw, out) {
		t.Fatalf("round trip changed the response:\n%s\n%s", raw, out)
	}
	if rebuilt.OK() || resp.Results[1].FailedStep != string(StepSetSecret) {
		t.Fatalf("response %+v", rebuilt)
	}
}

func TestRotateNowRequestValidate(t *testing.T) {
	t.Parallel()
	base := func() RotateNowRequest { return RotateNowRequest{SecretIDs: []string{"a"}} }
	cases := map[string]struct {
		tweak     func(*RotateNowRequest)
		wantField string
	}{
		"valid":           {func(*RotateNowRequest) {}, ""},
		"no secrets":      {func(r *RotateNowRequest) { r.SecretIDs = nil }, "secretIds"},
		"ids and filters": {func(r *RotateNowRequest) { r.Filters = []SecretFilter{{Key: "name", Values: []string{"x"}}} }, "filters"},
		"filters only": {func(r *RotateNowRequest) {
			r.SecretIDs = nil
			r.Filters = []SecretFilter{{Key: "tag-key", Values: []string{"x"}}}
		}, ""},
		"unknown key": {func(r *RotateNowRequest) {
			r.SecretIDs = nil
			r.Filters = []SecretFilter{{Key: "tag", Values: []string{"x"}}}
		}, "filters[0].key"},
		"no values": {func(r *RotateNowRequest) { r.SecretIDs = nil; r.Filters = []SecretFilter{{Key: "name"}} }, "filters[0].values"},
		"bare negation": {func(r *RotateNowRequest) {
			r.SecretIDs = nil
			r.Filters = []SecretFilter{{Key: "name", Values: []string{"!"}}}
		}, "filters[0].values"},
		"negative timeout":        {func(r *RotateNowRequest) { r.TimeoutSeconds = -1 }, "timeoutSeconds"},
		"timeout too long":        {func(r *RotateNowRequest) { r.TimeoutSeconds = 901 }, "timeoutSeconds"},
		"concurrency":             {func(r *RotateNowRequest) { r.Concurrency = 101 }, "concurrency"},
		"budget above quota":      {func(r *RotateNowRequest) { r.WritesPerSecond = 51 }, "writesPerSecond"},
		"budget below a rotation": {func(r *RotateNowRequest) { r.WritesPerSecond = 1 }, "writesPerSecond"},
		"empty id is later":       {func(r *RotateNowRequest) { r.SecretIDs = []string{"", "a"} }, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := base()
			tc.tweak(&r)
			err := r.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.wantField {
				t.Fatalf("err %v, want a FieldError for %s", err, tc.wantField)
			}
		})
	}
}

func TestParseRotateNowRequestRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	_, err := ParseRotateNowRequest([]byte(`{"secretId":"a"}`))
	if err == nil || !strings.Contains(err.Error(), "secretId") {
		t.Fatalf("err %v, want one naming the unknown field", err)
	}
}

func TestRotateNowStatusOK(t *testing.T) {
	t.Parallel()
	for s, want := range map[RotateNowStatus]bool{StatusSucceeded: true, StatusStarted: true, StatusFailed: false, StatusTimedOut: false, StatusRefused: false} {
		if s.OK() != want {
			t.Errorf("%s.OK() = %v", s, !want)
		}
	}
}

// TestParseRotateNowRequestRefusesAmbiguousInput: a key given twice (in any
// case) and a second object after the first are refused, naming the key or
// the request; encoding/json alone would take the last key and ignore the
// trailing object.
func TestParseRotateNowRequestRefusesAmbiguousInput(t *testing.T) {
	for in, field := range map[string]string{
		`{"secretIds":["a"],"secretIds":["b"]}`:   "secretIds",
		`{"secretIds":["a"],"SecretIds":["b"]}`:   "SecretIds",
		`{"secretIds":["a"]} {"secretIds":["b"]}`: "request",
		`{"secretIds":["a"]`:                      "request",
	} {
		_, err := ParseRotateNowRequest([]byte(in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: err %v, want a field error naming %q", in, err, field)
		}
	}
}
