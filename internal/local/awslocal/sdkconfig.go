package awslocal

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// SDKConfig returns an aws-sdk-go-v2 configuration for clients of the
// stand-in at baseURL: static credentials, the server's region, and
// BaseEndpoint set to baseURL.
func (s *Server) SDKConfig(baseURL string) aws.Config {
	return aws.Config{
		Region:       s.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDAWSLOCAL", "awslocal-secret-key", ""),
		BaseEndpoint: aws.String(baseURL),
	}
}
