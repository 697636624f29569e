//go:build failpoints

package mariadb

import (
	"context"
	"database/sql/driver"
	"net"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/internal/failpoint"
)

// newConnector is mysql.NewConnector with the test's faults
// (failpoint.At) armed on connections opened under ctx: at the login (dial
// refused, or the connection dropped once the server has logged the user
// in) and at every round trip a statement makes (its write fails, or the
// connection drops when the server's answer arrives). Only builds with the
// failpoints tag have it.
func newConnector(ctx context.Context, cfg *mysql.Config, where string) (driver.Connector, error) {
	if !failpoint.Active(ctx) {
		return mysql.NewConnector(cfg)
	}
	fc := &fpConnector{where: where}
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if fc.login == failpoint.Before {
			return nil, failpoint.Refused(network, addr)
		}
		var d net.Dialer // ctx carries the driver's connect timeout
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		fc.conn = &failpoint.Conn{Conn: c}
		return fc.conn, nil
	}
	inner, err := mysql.NewConnector(cfg)
	fc.inner = inner
	return fc, err
}

type fpConnector struct {
	inner driver.Connector
	where string
	login failpoint.Fault
	conn  *failpoint.Conn
}

func (c *fpConnector) Driver() driver.Driver { return c.inner.Driver() }

func (c *fpConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c.login = failpoint.At(ctx, c.point("login"))
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if c.login == failpoint.After {
		// The server logged the user in; the client never hears of it.
		c.conn.Conn.Close()
		dc.Close()
		return nil, mysql.ErrInvalidConn
	}
	return &fpConn{inner: dc, c: c}, nil
}

func (c *fpConnector) point(what string) failpoint.Point {
	return failpoint.Point{Engine: "mariadb", Addr: c.where, What: what}
}

// arm sets the fault for the round trip about to start.
func (c *fpConnector) arm(ctx context.Context, what string) {
	c.conn.Arm(failpoint.At(ctx, c.point(what)))
}

// fpConn is the driver's connection with a fault point at each round trip.
// It implements the optional interfaces the driver's connection does, so
// database/sql uses it the same way.
type fpConn struct {
	inner driver.Conn
	c     *fpConnector
}

var (
	_ driver.ConnBeginTx        = (*fpConn)(nil)
	_ driver.ConnPrepareContext = (*fpConn)(nil)
	_ driver.ExecerContext      = (*fpConn)(nil)
	_ driver.QueryerContext     = (*fpConn)(nil)
	_ driver.Pinger             = (*fpConn)(nil)
	_ driver.SessionResetter    = (*fpConn)(nil)
	_ driver.Validator          = (*fpConn)(nil)
	_ driver.NamedValueChecker  = (*fpConn)(nil)
	_ driver.StmtExecContext    = (*fpStmt)(nil)
	_ driver.StmtQueryContext   = (*fpStmt)(nil)
	_ driver.NamedValueChecker  = (*fpStmt)(nil)
)

func (x *fpConn) Prepare(query string) (driver.Stmt, error) {
	return x.PrepareContext(context.Background(), query)
}

func (x *fpConn) Close() error { return x.inner.Close() }

func (x *fpConn) Begin() (driver.Tx, error) {
	return x.BeginTx(context.Background(), driver.TxOptions{})
}

func (x *fpConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	x.c.arm(ctx, "BEGIN")
	return x.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (x *fpConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	x.c.arm(ctx, "prepare "+failpoint.Label(query))
	s, err := x.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &fpStmt{inner: s, c: x.c, what: failpoint.Label(query)}, nil
}

func (x *fpConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 { // with arguments the driver answers ErrSkip, sending nothing
		x.c.arm(ctx, failpoint.Label(query))
	}
	return x.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (x *fpConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		x.c.arm(ctx, failpoint.Label(query))
	}
	return x.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (x *fpConn) Ping(ctx context.Context) error {
	x.c.arm(ctx, "ping")
	return x.inner.(driver.Pinger).Ping(ctx)
}

func (x *fpConn) ResetSession(ctx context.Context) error {
	return x.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (x *fpConn) IsValid() bool { return x.inner.(driver.Validator).IsValid() }

func (x *fpConn) CheckNamedValue(nv *driver.NamedValue) error {
	return x.inner.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// fpStmt is a prepared statement with a fault point at each execution.
type fpStmt struct {
	inner driver.Stmt
	c     *fpConnector
	what  string
}

func (s *fpStmt) Close() error  { return s.inner.Close() }
func (s *fpStmt) NumInput() int { return s.inner.NumInput() }

func (s *fpStmt) Exec(args []driver.Value) (driver.Result, error) {
	//lint:ignore SA1019 database/sql calls ExecContext; this is the interface's required method
	return s.inner.Exec(args)
}

func (s *fpStmt) Query(args []driver.Value) (driver.Rows, error) {
	//lint:ignore SA1019 database/sql calls QueryContext; this is the interface's required method
	return s.inner.Query(args)
}

func (s *fpStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.arm(ctx, s.what)
	return s.inner.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *fpStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.arm(ctx, s.what)
	return s.inner.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *fpStmt) CheckNamedValue(nv *driver.NamedValue) error {
	return s.inner.(driver.NamedValueChecker).CheckNamedValue(nv)
}
