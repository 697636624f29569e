package lease

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rotorhq/rotor/events"
)

// HandleRequest is the issuer function's handler: it decodes payload
// strictly (events.ParseLeaseRequest: unknown fields refused) and serves
// it. Errors are *Error (their ErrorType is the Lambda errorType).
func (s *Service) HandleRequest(ctx context.Context, payload json.RawMessage) (events.Lease, error) {
	req, err := events.ParseLeaseRequest(payload)
	if err != nil {
		s.o.Logger.Warn("lease request refused", "error_type", TypeInvalid, "error", err.Error())
		if s.o.OnOutcome != nil {
			s.o.OnOutcome(req.ActionOrDefault(), "unknown", TypeInvalid)
		}
		return events.Lease{}, invalid(err)
	}
	return s.Handle(ctx, req)
}

// TypeReapIncomplete is the reaper's Lambda error type when some lease
// users could not be dropped (they are retried on the next run).
const TypeReapIncomplete = "ReapIncomplete"

// ReapError reports a run that left users behind.
type ReapError struct{ Report ReapReport }

func (e *ReapError) Error() string {
	msg := fmt.Sprintf("reap incomplete: %d lease users or role definitions could not be reaped (retried on the next run):", len(e.Report.Failures))
	for _, f := range e.Report.Failures {
		if f.User == "" {
			msg += fmt.Sprintf(" role %s: %s;", f.Role, f.Error)
		} else {
			msg += fmt.Sprintf(" %s (role %s): %s;", f.User, f.Role, f.Error)
		}
	}
	return msg
}

// ErrorType is the errorType Lambda reports.
func (e *ReapError) ErrorType() string { return TypeReapIncomplete }

// HandleReap is the reaper function's handler: it ignores its payload (a
// scheduled event), reaps, and fails with a *ReapError when a user could
// not be dropped, so the function's Errors metric and its log show it.
func (s *Service) HandleReap(ctx context.Context, _ json.RawMessage) (ReapReport, error) {
	r := s.Reap(ctx)
	if len(r.Failures) > 0 {
		return r, &ReapError{Report: r}
	}
	return r, nil
}
