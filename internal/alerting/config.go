package alerting

import (
	"fmt"
	"strings"

	"github.com/rotorhq/rotor/internal/config"
)

// Config is the notifier's and auditor's settings (config.FunctionEnv
// "notifier" and "auditor" list the variables).
type Config struct {
	TopicARN               string
	SecretsManagerEndpoint string
	// MetricsNamespace is read by the auditor only.
	MetricsNamespace string
}

// LoadConfig reads the settings through getenv. SNS_TOPIC_ARN is required
// and must be an SNS topic ARN; a missing one is an error naming it.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		TopicARN:               strings.TrimSpace(getenv(config.EnvSNSTopicARN)),
		SecretsManagerEndpoint: strings.TrimSpace(getenv(config.EnvSecretsManagerEndpoint)),
		MetricsNamespace:       strings.TrimSpace(getenv(config.EnvMetricsNamespace)),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = config.DefaultMetricsNamespace
	}
	switch {
	case c.TopicARN == "":
		return c, fmt.Errorf("%s: missing; set it to the alert topic's ARN", config.EnvSNSTopicARN)
	case !strings.HasPrefix(c.TopicARN, "arn:") || !strings.Contains(c.TopicARN, ":sns:"):
		return c, fmt.Errorf("%s=%q: not an SNS topic ARN", config.EnvSNSTopicARN, c.TopicARN)
	}
	return c, nil
}
