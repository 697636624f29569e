package lease

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/internal/config/rotatorconfig"
	"github.com/rotorhq/rotor/strategies/engine"
)

// Definition is one role definition: what a lease of this name is and how
// long it may live.
type Definition struct {
	// Name is what requests name (events.LeaseRoleNamePattern); it is part
	// of every lease user's name.
	Name string `json:"name"`
	// AdminSecretARN is the admin secret that creates and drops the users;
	// it must be one of ADMIN_SECRET_ARNS. Its document says where the
	// database is; leases log in there.
	AdminSecretARN string `json:"adminSecretArn"`
	// GroupRole is the operator-owned role lease users are members of.
	GroupRole         string `json:"groupRole"`
	DefaultTTLSeconds int    `json:"defaultTtlSeconds"`
	MaxTTLSeconds     int    `json:"maxTtlSeconds"`
	// Engine is a secret-document engine value (postgres, mariadb, ...).
	Engine string `json:"engine"`
}

var roleNameRE = regexp.MustCompile(events.LeaseRoleNamePattern)

// definitionError names the definition and field at fault.
func definitionError(i int, name, field, reason string) error {
	if name == "" {
		return fmt.Errorf("%s: definition %d: field %q: %s", config.EnvLeaseRoles, i, field, reason)
	}
	return fmt.Errorf("%s: definition %d (%q): field %q: %s", config.EnvLeaseRoles, i, name, field, reason)
}

// ParseDefinitions reads LEASE_ROLES: a JSON array of definitions. Unknown
// fields, a missing or malformed field, a duplicate name, a TTL out of
// order or over events.MaxLeaseTTLSeconds, an admin secret outside allowed
// or an engine engines does not serve are errors naming the definition
// and the field. Lease user names must fit the engine's limit
// (NameLength), so a long definition name is refused for engines with
// short names (mysql documents: 32 characters).
func ParseDefinitions(data string, engines *engine.Registry, allowed []string) ([]Definition, error) {
	if strings.TrimSpace(data) == "" {
		return nil, fmt.Errorf("%s: missing: set it to a JSON array of role definitions (docs/leases.md)", config.EnvLeaseRoles)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(data)))
	dec.DisallowUnknownFields()
	var defs []Definition
	if err := dec.Decode(&defs); err != nil {
		return nil, fmt.Errorf("%s: %s", config.EnvLeaseRoles, events.JSONErrorWithoutValue(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value", config.EnvLeaseRoles)
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("%s: no role definitions", config.EnvLeaseRoles)
	}
	seen := map[string]bool{}
	for i, d := range defs {
		bad := func(field, reason string) error { return definitionError(i, d.Name, field, reason) }
		switch {
		case !roleNameRE.MatchString(d.Name):
			return nil, bad("name", fmt.Sprintf("%q does not match %s", d.Name, events.LeaseRoleNamePattern))
		case seen[d.Name]:
			return nil, bad("name", "defined twice")
		case d.AdminSecretARN == "":
			return nil, bad("adminSecretArn", "missing")
		case !slices.Contains(allowed, d.AdminSecretARN):
			return nil, bad("adminSecretArn", fmt.Sprintf("%q is not one of %s", d.AdminSecretARN, config.EnvAdminSecretARNs))
		case d.GroupRole == "":
			return nil, bad("groupRole", "missing: name the operator-owned role that holds the grants")
		case strings.ContainsRune(d.GroupRole, 0):
			return nil, bad("groupRole", "contains a NUL byte")
		case d.MaxTTLSeconds < 1 || d.MaxTTLSeconds > events.MaxLeaseTTLSeconds:
			return nil, bad("maxTtlSeconds", fmt.Sprintf("%d is outside 1..%d", d.MaxTTLSeconds, events.MaxLeaseTTLSeconds))
		case d.DefaultTTLSeconds < 1 || d.DefaultTTLSeconds > d.MaxTTLSeconds:
			return nil, bad("defaultTtlSeconds", fmt.Sprintf("%d is outside 1..maxTtlSeconds (%d)", d.DefaultTTLSeconds, d.MaxTTLSeconds))
		}
		e, err := engines.Lookup(d.Engine)
		if err != nil {
			return nil, bad("engine", err.Error())
		}
		f := e.Facts()
		if n := NameLength(d.Name); f.MaxUsername > 0 && n > f.MaxUsername {
			return nil, bad("name", fmt.Sprintf("lease user names would be %d characters; %s keeps at most %d (shorten the name by %d)", n, d.Engine, f.MaxUsername, n-f.MaxUsername))
		}
		seen[d.Name] = true
	}
	return defs, nil
}

// Config is the issuer's and the reaper's configuration.
type Config struct {
	Definitions     []Definition
	AdminSecretARNs []string
	rotatorconfig.DB
	SecretsManagerEndpoint string
	MetricsNamespace       string
}

// LoadConfig reads LEASE_ROLES, ADMIN_SECRET_ARNS, the DB_* settings,
// SECRETS_MANAGER_ENDPOINT and METRICS_NAMESPACE. engines serves the
// definitions' engine values.
func LoadConfig(lookup func(string) (string, bool), engines *engine.Registry) (Config, error) {
	getenv := func(k string) string { v, _ := lookup(k); return v }
	c := Config{
		SecretsManagerEndpoint: strings.TrimSpace(getenv(config.EnvSecretsManagerEndpoint)),
		MetricsNamespace:       config.DefaultMetricsNamespace,
	}
	var err error
	if c.DB, err = rotatorconfig.LoadDB(lookup); err != nil {
		return c, err
	}
	if c.AdminSecretARNs, err = rotatorconfig.ParseAdminSecretARNs(getenv(config.EnvAdminSecretARNs)); err != nil {
		return c, fmt.Errorf("%s: %w", config.EnvAdminSecretARNs, err)
	}
	if c.Definitions, err = ParseDefinitions(getenv(config.EnvLeaseRoles), engines, c.AdminSecretARNs); err != nil {
		return c, err
	}
	if v := strings.TrimSpace(getenv(config.EnvMetricsNamespace)); v != "" {
		c.MetricsNamespace = v
	}
	return c, nil
}
