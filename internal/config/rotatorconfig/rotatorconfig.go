// Package rotatorconfig reads the rotator's settings (and the database
// settings the CLI shares with it) from the environment. The variable names
// come from package config, the single source of truth; an invalid value is
// an error naming the variable, never a silent default.
package rotatorconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rotorhq/rotor/internal/config"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/engine"
)

// DB is how the rotator, and the CLI commands that log in as it would,
// reach databases.
type DB struct {
	TLSMode              string
	CABundle             string
	ConnectTimeout       time.Duration
	PreviousUserSessions string
}

// Rotator is the rotator function's configuration.
type Rotator struct {
	Strategy string
	Password rotation.PasswordPolicy
	DB
	// SecretsManagerEndpoint is AWS's templates' override; the SDK's own
	// AWS_ENDPOINT_URL settings work as well.
	SecretsManagerEndpoint string
	MetricsNamespace       string
	// AdminSecretARNs are the admin secrets alternating-users may use.
	AdminSecretARNs []string
}

// Load reads the rotator's settings. An invalid value is an error naming the variable; nothing is
// silently replaced by a default.
//
// lookup is os.LookupEnv in a function: it tells an unset variable from an
// empty one, which matters for EXCLUDE_CHARACTERS.
func Load(lookup func(string) (string, bool)) (Rotator, error) {
	getenv := func(k string) string { v, _ := lookup(k); return v }
	c := Rotator{
		Strategy:               strategies.NameSingleUser,
		Password:               rotation.DefaultPasswordPolicy(),
		SecretsManagerEndpoint: strings.TrimSpace(getenv(config.EnvSecretsManagerEndpoint)),
		MetricsNamespace:       config.DefaultMetricsNamespace,
	}
	db, err := LoadDB(lookup)
	if err != nil {
		return c, err
	}
	c.DB = db
	if v := strings.TrimSpace(getenv(config.EnvRotationStrategy)); v != "" {
		if _, err := strategies.ParseName(v); err != nil {
			return c, fmt.Errorf("%s: %w", config.EnvRotationStrategy, err)
		}
		c.Strategy = v
	}
	if v := strings.TrimSpace(getenv(config.EnvPasswordLength)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4096 {
			return c, fmt.Errorf("%s=%q: want a whole number from 1 to 4096", config.EnvPasswordLength, v)
		}
		c.Password.Length = n
	}
	// EXCLUDE_CHARACTERS is taken verbatim (spaces included): it is a set
	// of characters. Unset means the engine's default set; set but empty
	// excludes nothing, as in AWS's templates.
	if v, ok := lookup(config.EnvExcludeCharacters); ok {
		c.Password.ExcludeCharacters = &v
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{config.EnvExcludeNumbers, &c.Password.ExcludeNumbers},
		{config.EnvExcludePunctuation, &c.Password.ExcludePunctuation},
		{config.EnvExcludeUppercase, &c.Password.ExcludeUppercase},
		{config.EnvExcludeLowercase, &c.Password.ExcludeLowercase},
		{config.EnvRequireEachIncludedType, &c.Password.RequireEachIncludedType},
	} {
		if err := parseBool(getenv, b.name, b.dst); err != nil {
			return c, err
		}
	}
	if err := c.Password.Validate(); err != nil {
		return c, fmt.Errorf("password settings: %w", err)
	}
	if v := strings.TrimSpace(getenv(config.EnvMetricsNamespace)); v != "" {
		c.MetricsNamespace = v
	}
	if c.AdminSecretARNs, err = ParseAdminSecretARNs(getenv(config.EnvAdminSecretARNs)); err != nil {
		return c, fmt.Errorf("%s: %w", config.EnvAdminSecretARNs, err)
	}
	return c, nil
}

// ParseAdminSecretARNs reads a comma-separated list of Secrets Manager
// secret ARNs (ADMIN_SECRET_ARNS, rotor check's --admin-secret-arns).
// Empty entries are ignored; anything that is not a full secret ARN is an
// error naming it, so a typo cannot silently allow nothing or something
// else.
func ParseAdminSecretARNs(v string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if parts := strings.SplitN(a, ":", 7); len(parts) != 7 || parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
			return nil, fmt.Errorf("%q is not a secret ARN (want arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX)", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// LoadDB reads the database settings (DB_TLS, DB_CA_BUNDLE,
// DB_CONNECT_TIMEOUT, PREVIOUS_USER_SESSIONS) with their defaults. The CLI
// calls it too, then applies its flags with the same Parse functions, so a
// command logs in exactly as the rotator would.
func LoadDB(lookup func(string) (string, bool)) (DB, error) {
	getenv := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	db := DB{TLSMode: events.TLSVerifyFull, PreviousUserSessions: strategies.SessionsWarn, CABundle: getenv(config.EnvDBCABundle)}
	var err error
	if v := getenv(config.EnvDBTLS); v != "" {
		if db.TLSMode, err = ParseTLSMode(v); err != nil {
			return db, fmt.Errorf("%s: %w", config.EnvDBTLS, err)
		}
	}
	if v := getenv(config.EnvDBConnectTimeout); v != "" {
		if db.ConnectTimeout, err = ParseConnectTimeout(v); err != nil {
			return db, fmt.Errorf("%s: %w", config.EnvDBConnectTimeout, err)
		}
	}
	if v := getenv(config.EnvPreviousUserSessions); v != "" {
		if db.PreviousUserSessions, err = ParseSessionsPolicy(v); err != nil {
			return db, fmt.Errorf("%s: %w", config.EnvPreviousUserSessions, err)
		}
	}
	return db, nil
}

// ParseTLSMode reads a TLS mode: verify-full, require or disable.
func ParseTLSMode(v string) (string, error) {
	return engine.ParseMode(strings.ToLower(strings.TrimSpace(v)))
}

// ParseConnectTimeout reads a login timeout: a duration such as 5s, or a
// whole number of seconds; at most 5 minutes.
func ParseConnectTimeout(v string) (time.Duration, error) {
	d, err := parseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 || d > 5*time.Minute {
		return 0, fmt.Errorf("%q: want a duration such as 5s (at most 5m)", v)
	}
	return d, nil
}

// ParseSessionsPolicy reads the policy for open sessions of the user
// alternating-users is about to change: warn or fail.
func ParseSessionsPolicy(v string) (string, error) {
	switch p := strings.ToLower(strings.TrimSpace(v)); p {
	case strategies.SessionsWarn, strategies.SessionsFail:
		return p, nil
	}
	return "", fmt.Errorf("%q: want %s or %s", v, strategies.SessionsWarn, strategies.SessionsFail)
}

// StrategyOptions returns the strategies' shared options with the engines
// this build ships, loading the CA bundle once.
func (c DB) StrategyOptions() (strategies.Options, error) {
	pool, err := engine.LoadCABundle(c.CABundle)
	if err != nil {
		return strategies.Options{}, fmt.Errorf("%s: %w", config.EnvDBCABundle, err)
	}
	return strategies.Options{
		Engines:              builtin.Engines(),
		TLSMode:              c.TLSMode,
		RootCAs:              pool,
		ConnectTimeout:       c.ConnectTimeout,
		PreviousUserSessions: c.PreviousUserSessions,
	}, nil
}

// parseBool reads a boolean the way AWS's templates do (true/1/y/yes in any
// case), but refuses values it cannot read instead of treating them as
// false.
func parseBool(getenv func(string) string, name string, dst *bool) error {
	v := strings.ToLower(strings.TrimSpace(getenv(name)))
	switch v {
	case "":
		return nil
	case "true", "1", "y", "yes":
		*dst = true
	case "false", "0", "n", "no":
		*dst = false
	default:
		return fmt.Errorf("%s=%q: want true or false (also 1/0, y/n, yes/no)", name, v)
	}
	return nil
}

func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}
