package rdsapi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rotorhq/rotor/internal/rdsapi"
)

// TestSharedConfigEndpointsMatchTheSDK: with the shared configuration
// loader (as `rotor` loads it), the RDS endpoint is the one service/rds
// chooses, for the settings in which the environment and the profile
// disagree: AWS_ENDPOINT_URL in the environment over the profile's RDS
// endpoint, and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS. Not parallel: it
// sets process environment variables, which is what the SDK reads.
func TestSharedConfigEndpointsMatchTheSDK(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	profile := "[profile p]\nregion = us-west-2\nservices = s\n\n[services s]\nrds =\n  endpoint_url = http://profile-rds.example:4\n"
	if err := os.WriteFile(file, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_RDS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_REGION", "AWS_PROFILE"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"the profile's RDS endpoint", nil},
		{"AWS_ENDPOINT_URL over the profile's RDS endpoint", map[string]string{"AWS_ENDPOINT_URL": "http://global.example:1"}},
		{"AWS_ENDPOINT_URL_RDS over both", map[string]string{"AWS_ENDPOINT_URL": "http://global.example:1", "AWS_ENDPOINT_URL_RDS": "http://rds.example:2"}},
		{"configured endpoints ignored", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL_RDS": "http://rds.example:2"}},
	}
	for _, c := range cases {
		for k, v := range c.env {
			os.Setenv(k, v)
		}
		cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithSharedConfigFiles([]string{file}), awsconfig.WithSharedConfigProfile("p"),
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDX", "x", "")))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Retryer = quickRetries(1)
		cfg.HTTPClient = hostRecorder{}
		var h hostErr
		_, err = rds.NewFromConfig(cfg).DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
		if !errors.As(err, &h) {
			t.Fatalf("%s: the SDK made no request: %v", c.name, err)
		}
		want := strings.TrimSuffix(string(h), "/") // the SDK's path is "/", rdsapi's empty: the same request line
		_, err = rdsapi.New(cfg).DescribeDBInstance(context.Background(), "db1")
		if !errors.As(err, &h) {
			t.Fatalf("%s: rdsapi made no request: %v", c.name, err)
		}
		if string(h) != want {
			t.Errorf("%s: request went to %q, the SDK's to %q", c.name, string(h), want)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
}
