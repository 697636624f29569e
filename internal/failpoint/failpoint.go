//go:build failpoints

package failpoint

import (
	"context"
	"net"
	"strings"
	"sync"
	"syscall"
)

// Fault is what happens at a point.
type Fault int

// Faults.
const (
	// Pass lets the request through.
	Pass Fault = iota
	// Before drops the connection before the request leaves: a login is
	// refused at the dial, a statement never reaches the server.
	Before
	// After lets the request through and drops the connection once the
	// server has answered, before the client reads the answer: a login
	// the server accepted, a statement it ran.
	After
)

// Point is a login or a statement about to go to a database.
type Point struct {
	Engine string // "postgres", "mariadb"
	Addr   string // host:port
	// What is "login" or the statement's leading keywords (Label).
	What string
}

func (p Point) String() string { return p.Engine + " " + p.What }

// Handler decides the fault at a point. It may be called from the
// goroutines of concurrent steps.
type Handler func(ctx context.Context, p Point) Fault

type key struct{}

// With returns ctx with h deciding the fault at every point reached under
// it.
func With(ctx context.Context, h Handler) context.Context { return context.WithValue(ctx, key{}, h) }

// Active reports whether ctx carries a Handler.
func Active(ctx context.Context) bool { _, ok := ctx.Value(key{}).(Handler); return ok }

// At asks ctx's Handler for the fault at p; Pass without one.
func At(ctx context.Context, p Point) Fault {
	h, ok := ctx.Value(key{}).(Handler)
	if !ok {
		return Pass
	}
	return h(ctx, p)
}

// Label returns a statement's leading keywords, up to the first literal,
// parameter or parenthesis and at most four words: a name for a fault
// point that holds no value the statement carries.
func Label(sql string) string {
	if i := strings.IndexAny(sql, "'\"`$?(;"); i >= 0 {
		sql = sql[:i]
	}
	w := strings.Fields(sql)
	if len(w) > 4 {
		w = w[:4]
	}
	return strings.Join(w, " ")
}

// Refused is the dial error of a login refused by a Before fault.
func Refused(network, addr string) error {
	return &net.OpError{Op: "dial", Net: network, Addr: tcpAddr(addr), Err: syscall.ECONNREFUSED}
}

func tcpAddr(addr string) net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", addr)
	return a
}

// errDropped is what a cut connection's reads and writes return.
var errDropped = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

// Conn is a connection a fault can be armed on. Answer, when set, tells
// whether the bytes the server sent since the request hold its whole
// answer, and where that answer's end begins (the client gets the bytes
// before it); nil means the first bytes of the answer are enough.
type Conn struct {
	net.Conn
	Answer func(buf []byte) (end int, ok bool)

	mu         sync.Mutex
	failWrite  bool
	dropAnswer bool
	seen       []byte
	dropped    bool
}

// Arm sets the fault for the next request: Before fails its write and
// closes the connection; After lets it through and closes the connection
// when the answer arrives.
func (c *Conn) Arm(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failWrite, c.dropAnswer, c.seen = f == Before, f == After, nil
}

// Write sends b unless a Before fault is armed.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	fail := c.failWrite || c.dropped
	c.failWrite = false
	if fail {
		c.dropped = true
	}
	c.mu.Unlock()
	if fail {
		c.Conn.Close()
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return c.Conn.Write(b)
}

// Read reads the server's bytes; with an After fault armed it hands over
// what comes before the end of the answer, then closes the connection.
func (c *Conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	dropped, armed := c.dropped, c.dropAnswer
	c.mu.Unlock()
	if dropped {
		return 0, errDropped
	}
	n, err := c.Conn.Read(b)
	if !armed || n == 0 {
		return n, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	start := len(c.seen)
	c.seen = append(c.seen, b[:n]...)
	end, ok := 0, true
	if c.Answer != nil {
		end, ok = c.Answer(c.seen)
	}
	if !ok {
		return n, err
	}
	c.dropAnswer, c.dropped = false, true
	c.Conn.Close()
	if keep := end - start; keep > 0 {
		return keep, nil
	}
	return 0, errDropped
}
