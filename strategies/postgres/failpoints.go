//go:build failpoints

package postgres

import (
	"context"
	"encoding/binary"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/failpoint"
)

// hookFailpoints arms the test's faults (failpoint.At) on a connection
// opened under ctx: at the login (dial refused, or the connection dropped
// once the server has logged the user in) and at every query message (its
// write fails, or the connection drops when the server's answer is
// complete). A pgx batch is one message (the simple protocol sends its
// statements as one query), so one point, labelled with its statements'
// labels joined by " + ". Only builds with the failpoints tag have it.
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
	cfg.Tracer = tracer(func(ctx context.Context, what string) {
		if conn != nil {
			conn.Arm(failpoint.At(ctx, point(what)))
		}
	})
}

// tracer calls itself with each query message's label as it starts.
type tracer func(ctx context.Context, what string)

func (t tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t(ctx, failpoint.Label(d.SQL))
	return ctx
}

func (tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	labels := make([]string, len(d.Batch.QueuedQueries))
	for i, q := range d.Batch.QueuedQueries {
		labels[i] = failpoint.Label(q.SQL)
	}
	t(ctx, strings.Join(labels, " + "))
	return ctx
}

func (tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

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
