// Package rdsendpoint finds the endpoint of the RDS instance or cluster that
// an RDS-managed master secret belongs to, through RDS DescribeDBInstances
// and DescribeDBClusters. It reads only; on any error nothing has changed.
package rdsendpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/rotorhq/rotor/internal/rdsapi"
	"github.com/rotorhq/rotor/rotation"
)

// API is the part of the RDS client the resolver uses; *rdsapi.Client
// satisfies it.
type API interface {
	DescribeDBInstance(ctx context.Context, id string) (rdsapi.DBInstance, error)
	DescribeDBCluster(ctx context.Context, id string) (rdsapi.DBCluster, error)
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
		db, err := r.RDS.DescribeDBInstance(ctx, arn)
		if err != nil {
			return rotation.Endpoint{}, fmt.Errorf("describe DB instance %s: %w", arn, err)
		}
		if db.Endpoint == nil || db.Endpoint.Address == "" {
			return rotation.Endpoint{}, fmt.Errorf("DB instance %s has no endpoint yet", arn)
		}
		return rotation.Endpoint{Host: db.Endpoint.Address, Port: db.Endpoint.Port, Engine: db.Engine}, nil
	case "cluster":
		c, err := r.RDS.DescribeDBCluster(ctx, arn)
		if err != nil {
			return rotation.Endpoint{}, fmt.Errorf("describe DB cluster %s: %w", arn, err)
		}
		if c.Endpoint == "" {
			return rotation.Endpoint{}, fmt.Errorf("DB cluster %s has no endpoint yet", arn)
		}
		return rotation.Endpoint{Host: c.Endpoint, Port: c.Port, Engine: c.Engine}, nil
	}
	return rotation.Endpoint{}, fmt.Errorf("%q is neither a DB instance nor a DB cluster ARN", arn)
}
