package client_test

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/pgxclient"
)

// A pgx pool that follows a secret rotor rotates daily: the README's
// example, compiled here so it stays right.
func Example() {
	ctx := context.Background()
	aws, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		panic(err)
	}
	cache, err := client.New(secretsmanager.NewFromConfig(aws), client.Options{SecretID: "prod/app/db"})
	if err != nil {
		panic(err)
	}
	cfg, err := pgxpool.ParseConfig("host=db.internal dbname=app sslmode=verify-full")
	if err != nil {
		panic(err)
	}
	cfg.MaxConnLifetime = client.MaxConnLifetime(24 * time.Hour) // the rotation interval
	pool, err := pgxclient.NewPool(ctx, cache, cfg)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	_, _ = pool.Exec(ctx, "SELECT 1") // logs in with the secret; a refused login is retried with the new one
}
