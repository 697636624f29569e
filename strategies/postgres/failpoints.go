//go:build failpoints

package postgres

import (
	"context"
	"encoding/binary"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/failpoint"
)

// hookFailpoints arms the test's faults (failpoint.At) on a connection
// opened under ctx: at the login (dial refused, or the connection dropped
// once the server has logged the user in) and at every statement (its
// write fails, or the connection drops when the server's answer is
// complete). Only builds with the failpoints tag have it.
func hookFailpoints(ctx context.Context, cfg *pgx.ConnConfig, where string) {
	if !failpoint.Active(ctx) {
		return
	}
	point := func(what string) failpoint.Point {
		return failpoint.Point{Engine: "postgres", Addr: where, What: what}
	}
	login := failpoint.At(ctx, point("login"))
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if login == failpoint.Before {
			return nil, failpoint.Refused(network, addr)
		}
		return dial(ctx, network, addr)
	}
	var conn *failpoint.Conn
	cfg.AfterNetConnect = func(_ context.Context, _ *pgconn.Config, c net.Conn) (net.Conn, error) {
		conn = &failpoint.Conn{Conn: c, Answer: readyForQuery}
		if login == failpoint.After {
			conn.Arm(login)
		}
		return conn, nil
	}
	cfg.Tracer = tracer(func(ctx context.Context, sql string) {
		if conn != nil {
			conn.Arm(failpoint.At(ctx, point(failpoint.Label(sql))))
		}
	})
}

// tracer calls itself with each query's text as the query starts.
type tracer func(ctx context.Context, sql string)

func (t tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t(ctx, d.SQL)
	return ctx
}

func (tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// readyForQuery finds the start of the ReadyForQuery message that ends
// every answer (and the login) in the server's bytes.
func readyForQuery(buf []byte) (int, bool) {
	for pos := 0; pos+5 <= len(buf); {
		if buf[pos] == 'Z' {
			return pos, true
		}
		pos += 1 + int(binary.BigEndian.Uint32(buf[pos+1:pos+5]))
	}
	return 0, false
}
