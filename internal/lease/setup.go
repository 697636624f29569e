package lease

import (
	"log/slog"
	"os"

	"github.com/rotorhq/rotor/internal/lambdafn"
	"github.com/rotorhq/rotor/internal/metrics"
	"github.com/rotorhq/rotor/internal/rdsapi"
	"github.com/rotorhq/rotor/internal/rdsendpoint"
	"github.com/rotorhq/rotor/internal/version"
	"github.com/rotorhq/rotor/strategies/builtin"
)

// Setup is what functions/issuer and functions/reaper share: it reads the
// settings from lookup (os.LookupEnv), loads the AWS configuration, and
// builds the Service with the shipped engines, the EMF writer on stdout
// (METRICS_NAMESPACE, FunctionName dimension from
// AWS_LAMBDA_FUNCTION_NAME) and the request outcome metrics.
func Setup(log *slog.Logger, lookup func(string) (string, bool)) (*Service, *metrics.EMF, error) {
	cfg, err := LoadConfig(lookup, builtin.Engines())
	if err != nil {
		return nil, nil, err
	}
	sopts, err := cfg.StrategyOptions()
	if err != nil {
		return nil, nil, err
	}
	fn, _ := lookup("AWS_LAMBDA_FUNCTION_NAME")
	emf := metrics.NewEMF(os.Stdout, cfg.MetricsNamespace).WithVersion(version.String()).WithFunctionName(fn)
	sopts.OnLogin = emf.Logins()
	awsCfg, err := lambdafn.AWSConfig(func(k string) string { v, _ := lookup(k); return v })
	if err != nil {
		return nil, nil, err
	}
	svc, err := New(Options{
		Definitions:     cfg.Definitions,
		Secrets:         lambdafn.SecretsManager(awsCfg, cfg.SecretsManagerEndpoint),
		Endpoints:       rdsendpoint.Resolver{RDS: rdsapi.New(awsCfg)},
		AdminSecretARNs: cfg.AdminSecretARNs,
		Login:           sopts,
		Logger:          log,
		OnOutcome:       emf.LeaseOutcome(fn),
	})
	return svc, emf, err
}
