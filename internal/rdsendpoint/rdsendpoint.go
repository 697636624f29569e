// Package rdsendpoint finds the endpoint of the RDS instance or cluster that
// an RDS-managed master secret belongs to, through RDS DescribeDBInstances
// and DescribeDBClusters. It reads only; on any error nothing has changed.
package rdsendpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rotorhq/rotor/rotation"
)

// API is the part of the RDS client the resolver uses; *rds.Client
// satisfies it.
type API interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, optFns ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBClusters(ctx context.Context, in *rds.DescribeDBClustersInput, optFns ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)
}

// Resolver implements rotation.EndpointResolver.
type Resolver struct{ RDS API }

// ResolveEndpoint accepts an instance ARN (arn:...:db:name) or a cluster ARN
// (arn:...:cluster:name). For a cluster it returns the writer endpoint.
func (r Resolver) ResolveEndpoint(ctx context.Context, arn string) (rotation.Endpoint, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" {
		return rotation.Endpoint{}, fmt.Errorf("%q is not an RDS ARN", arn)
	}
	switch parts[5] {
	case "db":
		out, err := r.RDS.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(arn)})
		if err != nil {
			return rotation.Endpoint{}, fmt.Errorf("describe DB instance %s: %w", arn, err)
		}
		if len(out.DBInstances) == 0 || out.DBInstances[0].Endpoint == nil {
			return rotation.Endpoint{}, fmt.Errorf("DB instance %s has no endpoint yet", arn)
		}
		db := out.DBInstances[0]
		return rotation.Endpoint{Host: aws.ToString(db.Endpoint.Address), Port: int(aws.ToInt32(db.Endpoint.Port)), Engine: aws.ToString(db.Engine)}, nil
	case "cluster":
		out, err := r.RDS.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(arn)})
		if err != nil {
			return rotation.Endpoint{}, fmt.Errorf("describe DB cluster %s: %w", arn, err)
		}
		if len(out.DBClusters) == 0 || out.DBClusters[0].Endpoint == nil {
			return rotation.Endpoint{}, fmt.Errorf("DB cluster %s has no endpoint yet", arn)
		}
		c := out.DBClusters[0]
		return rotation.Endpoint{Host: aws.ToString(c.Endpoint), Port: int(aws.ToInt32(c.Port)), Engine: aws.ToString(c.Engine)}, nil
	}
	return rotation.Endpoint{}, fmt.Errorf("%q is neither a DB instance nor a DB cluster ARN", arn)
}
