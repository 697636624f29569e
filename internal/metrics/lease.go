package metrics

// Lease metrics (functions/issuer, functions/reaper). Each is a Count
// under the dimensions FunctionName and, for requests, Role (the role
// definition's name; "unknown" for a request naming none).
const (
	MetricLeasesIssued  = "LeasesIssued"
	MetricLeasesRenewed = "LeasesRenewed"
	MetricLeasesRevoked = "LeasesRevoked"
	// MetricLeasesRefused counts requests refused as invalid (unknown
	// role definition, TTL over the maximum) or for want of proof of
	// possession.
	MetricLeasesRefused = "LeasesRefused"
	// MetricLeaseFailures counts requests that failed on the database or
	// the admin secret.
	MetricLeaseFailures = "LeaseFailures"
	// MetricLeasesReaped and MetricLeaseReapFailures count, per reaper
	// run, the users dropped and those (or role definitions) it could not
	// drop; an alarm on the latter catches a user left behind.
	MetricLeasesReaped      = "LeasesReaped"
	MetricLeaseReapFailures = "LeaseReapFailures"
	DimensionRole           = "Role"
)

// LeaseOutcome returns the issuer's outcome hook (lease.Options.OnOutcome):
// one line per request, counting it as issued, renewed, revoked, refused
// or failed. outcome is "ok" or the issuer's Lambda error type.
func (e *EMF) LeaseOutcome(function string) func(action, role, outcome string) {
	return func(action, role, outcome string) {
		metric := MetricLeaseFailures
		switch {
		case outcome == "ok" && action == "issue":
			metric = MetricLeasesIssued
		case outcome == "ok" && action == "renew":
			metric = MetricLeasesRenewed
		case outcome == "ok" && action == "revoke":
			metric = MetricLeasesRevoked
		case outcome == "InvalidLeaseRequest" || outcome == "LeaseDenied":
			metric = MetricLeasesRefused
		}
		dims := map[string]string{DimensionRole: role}
		if function != "" {
			dims[DimensionFunctionName] = function
		}
		_ = e.Write(dims, map[string]float64{metric: 1}, map[string]string{metric: "Count"})
	}
}

// LeaseReap writes one reaper run's counts.
func (e *EMF) LeaseReap(function string, reaped, failures int) {
	dims := map[string]string{}
	if function != "" {
		dims[DimensionFunctionName] = function
	}
	_ = e.Write(dims,
		map[string]float64{MetricLeasesReaped: float64(reaped), MetricLeaseReapFailures: float64(failures)},
		map[string]string{MetricLeasesReaped: "Count", MetricLeaseReapFailures: "Count"})
}
