package rdsapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// endpointSettings are the parts of an aws.Config the endpoint depends on.
type endpointSettings struct {
	region   string
	base     string // cfg.BaseEndpoint (AWS_ENDPOINT_URL)
	sources  []any  // cfg.ConfigSources
	fips     bool
	dual     bool
	settings error // a configuration source's error, reported at call time
}

func endpointSettingsFrom(cfg aws.Config) endpointSettings {
	s := endpointSettings{region: cfg.Region, base: aws.ToString(cfg.BaseEndpoint), sources: cfg.ConfigSources}
	ctx := context.Background()
	var fipsErr, dualErr error
	s.fips, fipsErr = firstSetting(cfg.ConfigSources, func(src any) (bool, bool, error) {
		p, ok := src.(interface {
			GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error)
		})
		if !ok {
			return false, false, nil
		}
		v, found, err := p.GetUseFIPSEndpoint(ctx)
		return v == aws.FIPSEndpointStateEnabled, found, err
	})
	s.dual, dualErr = firstSetting(cfg.ConfigSources, func(src any) (bool, bool, error) {
		p, ok := src.(interface {
			GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error)
		})
		if !ok {
			return false, false, nil
		}
		v, found, err := p.GetUseDualStackEndpoint(ctx)
		return v == aws.DualStackEndpointStateEnabled, found, err
	})
	s.settings = errors.Join(fipsErr, dualErr)
	return s
}

// firstSetting returns the value of the first configuration source that
// has one, as the SDK reads its settings; a source's error stops the
// search.
func firstSetting(sources []any, get func(any) (value, found bool, err error)) (bool, error) {
	for _, src := range sources {
		v, found, err := get(src)
		if err != nil || found {
			return v, err
		}
	}
	return false, nil
}

// resolve returns the URL requests go to and the SigV4 signing region.
// The order is the SDK's: Options.BaseEndpoint, then the configured one
// (serviceEndpoint: AWS_ENDPOINT_URL_RDS or the profile's RDS endpoint,
// AWS_ENDPOINT_URL), then RDS's regional endpoint (RegionalEndpoint).
func (c *Client) resolve(ctx context.Context) (endpoint, region string, err error) {
	e := c.endpoint
	if e.settings != nil {
		return "", "", fmt.Errorf("read the endpoint settings: %w", e.settings)
	}
	region, fips := normaliseRegion(e.region)
	fips = fips || e.fips
	if custom := c.opts.BaseEndpoint; custom != "" {
		// Named by the caller: used as given, whatever the FIPS and
		// dual-stack settings (as lambdafn.SecretsManager does).
		if u, err := url.Parse(custom); err != nil || u.Scheme == "" || u.Host == "" {
			return "", "", fmt.Errorf("the RDS endpoint %q is not an absolute URL", custom)
		}
		return custom, region, nil
	}
	custom, err := e.serviceEndpoint(ctx)
	if err != nil {
		return "", "", err
	}
	if custom != "" {
		if fips || e.dual {
			return "", "", fmt.Errorf("a custom RDS endpoint (%s) cannot be combined with the FIPS or dual-stack endpoint settings", custom)
		}
		if u, err := url.Parse(custom); err != nil || u.Scheme == "" || u.Host == "" {
			return "", "", fmt.Errorf("the RDS endpoint %q is not an absolute URL", custom)
		}
		return custom, region, nil
	}
	if region == "" {
		return "", "", fmt.Errorf("no AWS region: set AWS_REGION")
	}
	u, err := RegionalEndpoint(region, fips, e.dual)
	return u, region, err
}

// serviceEndpoint is the configured endpoint, or "", chosen as the SDK's
// clients choose it: AWS_ENDPOINT_URL in the environment without
// AWS_ENDPOINT_URL_RDS means cfg.BaseEndpoint (the shared configuration's
// RDS endpoint does not override the environment's); otherwise the
// configuration sources' RDS endpoint (unless they say to ignore configured
// endpoints, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), then cfg.BaseEndpoint.
func (e endpointSettings) serviceEndpoint(ctx context.Context) (string, error) {
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, rds := os.LookupEnv("AWS_ENDPOINT_URL_RDS")
	if global && !rds {
		return e.base, nil
	}
	for _, src := range e.sources {
		if p, ok := src.(interface {
			GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
		}); ok {
			ignore, found, err := p.GetIgnoreConfiguredEndpoints(ctx)
			if err == nil && found && ignore {
				return e.base, nil
			}
			if err != nil || found {
				break
			}
		}
	}
	for _, src := range e.sources {
		p, ok := src.(interface {
			GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
		})
		if !ok {
			continue
		}
		v, found, err := p.GetServiceBaseEndpoint(ctx, ServiceID)
		if err != nil {
			return "", fmt.Errorf("read the RDS endpoint setting: %w", err)
		}
		if found {
			return v, nil
		}
	}
	return e.base, nil
}

// normaliseRegion turns a pseudo-region such as "fips-us-east-1" or
// "us-gov-west-1-fips" into the region and the FIPS setting, as the SDK
// does.
func normaliseRegion(r string) (string, bool) {
	if !strings.Contains(r, "fips") {
		return r, false
	}
	for _, p := range []struct{ old, new string }{{"-fips-", "-"}, {"fips-", ""}, {"-fips", ""}} {
		r = strings.ReplaceAll(r, p.old, p.new)
	}
	return r, true
}

// partition is one AWS partition's DNS names (the SDK's partition data).
type partition struct {
	name      string
	regions   *regexp.Regexp
	dnsSuffix string
	dualStack string
}

// partitions lists the partitions in the SDK's order. A region is in the
// first whose pattern it matches or whose "<name>-global" pseudo-region it
// is; a region none matches is in the first ("aws"), as the SDK's rules
// say. The patterns are compiled on first use, not at package
// initialisation, which runs on every cold start.
var partitions = sync.OnceValue(func() []partition {
	return []partition{
		{"aws", regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$`), "amazonaws.com", "api.aws"},
		{"aws-cn", regexp.MustCompile(`^cn\-\w+\-\d+$`), "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
		{"aws-eusc", regexp.MustCompile(`^eusc\-(de)\-\w+\-\d+$`), "amazonaws.eu", "api.amazonwebservices.eu"},
		{"aws-iso", regexp.MustCompile(`^us\-iso\-\w+\-\d+$`), "c2s.ic.gov", "api.aws.ic.gov"},
		{"aws-iso-b", regexp.MustCompile(`^us\-isob\-\w+\-\d+$`), "sc2s.sgov.gov", "api.aws.scloud"},
		{"aws-iso-e", regexp.MustCompile(`^eu\-isoe\-\w+\-\d+$`), "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"},
		{"aws-iso-f", regexp.MustCompile(`^us\-isof\-\w+\-\d+$`), "csp.hci.ic.gov", "api.aws.hci.ic.gov"},
		{"aws-us-gov", regexp.MustCompile(`^us\-gov\-\w+\-\d+$`), "amazonaws.com", "api.aws"},
	}
})

// validRegion reports whether a region can be a host name label (letters,
// digits and hyphens, 1 to 63, not starting with a hyphen).
func validRegion(r string) bool {
	if r == "" || len(r) > 63 || r[0] == '-' {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// RegionalEndpoint is RDS's regional endpoint URL for region, with FIPS and dual
// stack as asked: https://rds[-fips].<region>.<suffix>, where the suffix
// is the partition's DNS suffix (amazonaws.com, amazonaws.com.cn, ...) or
// its dual-stack one (api.aws, ...). In AWS GovCloud (US) the regular
// endpoint is the FIPS one. These are the rules of RDS's endpoint rule set
// in the SDK; TestEndpointsMatchTheSDK compares them region by region.
func RegionalEndpoint(region string, fips, dualStack bool) (string, error) {
	if !validRegion(region) {
		return "", fmt.Errorf("invalid AWS region %q", region)
	}
	all := partitions()
	p := all[0]
	for _, q := range all {
		if region == q.name+"-global" || q.regions.MatchString(region) {
			p = q
			break
		}
	}
	switch {
	case fips && dualStack:
		return "https://rds-fips." + region + "." + p.dualStack, nil
	case fips && p.name == "aws-us-gov":
		return "https://rds." + region + ".amazonaws.com", nil
	case fips:
		return "https://rds-fips." + region + "." + p.dnsSuffix, nil
	case dualStack:
		return "https://rds." + region + "." + p.dualStack, nil
	}
	return "https://rds." + region + "." + p.dnsSuffix, nil
}
