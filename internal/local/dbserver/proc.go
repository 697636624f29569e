package dbserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MissingBinaryError reports that a server program is not installed.
type MissingBinaryError struct {
	Binary  string   // the program looked for, e.g. "initdb"
	Package string   // the Debian package that provides it, e.g. "postgresql"
	Looked  []string // where it was looked for
}

func (e *MissingBinaryError) Error() string {
	where := ""
	if len(e.Looked) > 0 {
		where = " (looked in " + strings.Join(e.Looked, ", ") + ")"
	}
	return fmt.Sprintf("%s not found%s: install the Debian package %q: %s",
		e.Binary, where, e.Package, e.InstallCommand())
}

// InstallCommand is the shell command that installs the missing package.
func (e *MissingBinaryError) InstallCommand() string {
	return "apt-get install -y " + e.Package
}

// dirPrefix starts the name of every directory this package creates, so that
// directories left behind by a killed process can be found and removed.
const dirPrefix = "rotor-dbserver-"

// ownerFile holds the PID of the process that created a run directory.
const ownerFile = "owner.pid"

// account is the OS user a server runs as.
type account struct {
	name     string
	uid, gid int
	cred     *syscall.Credential // nil when running as the current user
}

// serverAccount returns the unprivileged system user to run a server as when
// this process is root, or the current user otherwise.
func serverAccount(systemUser, pkg string) (account, error) {
	if os.Geteuid() != 0 {
		return account{name: "current user", uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	u, err := user.Lookup(systemUser)
	if err != nil {
		return account{}, fmt.Errorf("look up system user %q to run the server as (servers refuse to run as root; the Debian package %q creates it: apt-get install -y %s): %w",
			systemUser, pkg, pkg, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("system user %q: uid %q: %w", systemUser, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("system user %q: gid %q: %w", systemUser, u.Gid, err)
	}
	return account{
		name: systemUser,
		uid:  uid,
		gid:  gid,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)},
	}, nil
}

// command builds a command that runs as a, in its own process group, with a
// minimal environment (no PG*, MYSQL* or locale settings leak in), and that
// receives deathSig when this process dies.
func (a account) command(dir, path string, args []string, deathSig syscall.Signal) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"LANG=C",
		"LC_ALL=C",
		"TZ=UTC",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: a.cred,
		Setpgid:    true,
	}
	setDeathSignal(cmd.SysProcAttr, deathSig)
	return cmd
}

// chownTree gives the whole tree at root to a.
func (a account) chownTree(root string) error {
	if a.cred == nil {
		return nil
	}
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, a.uid, a.gid)
	})
}

// makeRunDir creates the private directory a server lives in, recording this
// process as its owner. Directories of dead owners are removed first.
func makeRunDir(base, kind string) (string, error) {
	if base == "" {
		base = os.TempDir()
	}
	sweepStale(base)
	dir, err := os.MkdirTemp(base, dirPrefix+kind+"-")
	if err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	// MkdirTemp may return a relative or symlinked path; servers want it absolute.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("write %s: %w", ownerFile, err)
	}
	return dir, nil
}

// sweepStale removes run directories whose owner process is gone. Their
// servers were signalled when the owner died (Pdeathsig); the grace period
// lets them finish shutting down first. Errors are ignored: sweeping is a
// courtesy, not part of starting a server.
func sweepStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < 30*time.Second {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// freePort asks the kernel for a TCP port on 127.0.0.1 that is free now. The
// server binds it moments later; Start retries with a new port if another
// process took it in between.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomPassword returns a password of 26 base32 characters (130 bits).
func randomPassword() string {
	return rand.Text()
}

// spawner is a goroutine locked to its OS thread for the life of the
// process. Servers are started from it because the kernel delivers
// Pdeathsig when the thread that forked the child exits, not the process: a
// server started from an ordinary goroutine could be signalled when the Go
// runtime retires that thread.
var spawner struct {
	once sync.Once
	reqs chan func()
}

func startOnSpawnerThread(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for f := range spawner.reqs {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}

// process is a started server process.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // exit status; valid after done is closed
}

// startProcess starts cmd with its output appended to logPath.
func startProcess(cmd *exec.Cmd, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := startOnSpawnerThread(cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	logFile.Close() // the child holds its own copy
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace for the process to exit, then kills
// its whole process group.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal server (pid %d): %w", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("server (pid %d) did not stop within %s after %s; killed", p.cmd.Process.Pid, grace, sig)
}

// runToLog runs a one-shot command (initdb, mariadb-install-db) with its
// output written to logPath, and returns an error with the log's tail if it
// fails or ctx ends first (the command is then killed).
func runToLog(ctx context.Context, cmd *exec.Cmd, logPath string) error {
	p, err := startProcess(cmd, logPath)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s: %w%s", filepath.Base(cmd.Path), ctx.Err(), logTail(logPath))
	}
	if p.err != nil {
		return fmt.Errorf("%s: %w%s", filepath.Base(cmd.Path), p.err, logTail(logPath))
	}
	return nil
}

// tailLines is how many log lines go into a startup error.
const tailLines = 25

// logTail returns the last lines of the log at path, formatted to be
// appended to an error message. Error lines from earlier in the log come
// first, since a failing program often ends with boilerplate.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("\n(no log at %s: %v)", path, err)
	}
	tail := lastLines(b, tailLines)
	var errs []string
	head := strings.TrimSuffix(string(b), tail)
	for line := range strings.Lines(head) {
		if strings.Contains(line, "ERROR") || strings.Contains(line, "FATAL") || strings.Contains(line, "PANIC") {
			errs = append(errs, strings.TrimRight(line, "\n"))
		}
	}
	if len(errs) > tailLines {
		errs = errs[len(errs)-tailLines:]
	}
	out := ""
	if len(errs) > 0 {
		out = fmt.Sprintf("\n--- errors earlier in %s ---\n%s", path, strings.Join(errs, "\n"))
	}
	return out + fmt.Sprintf("\n--- last lines of %s ---\n%s", path, tail)
}

func lastLines(b []byte, n int) string {
	b = bytes.TrimRight(b, "\n")
	idx := len(b)
	for i := 0; i < n && idx > 0; i++ {
		idx = bytes.LastIndexByte(b[:idx], '\n')
		if idx < 0 {
			idx = 0
			break
		}
	}
	return strings.TrimLeft(string(b[idx:]), "\n")
}

// readFrom returns the content of the file at path from byte offset off.
func readFrom(path string, off int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read server log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", fmt.Errorf("read server log: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", fmt.Errorf("read server log: %w", err)
	}
	return string(b), nil
}

// fileSize returns the size of the file at path, 0 if it does not exist yet.
func fileSize(path string) (int64, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stat server log: %w", err)
	}
	return info.Size(), nil
}

// findBinary returns the first candidate that is an executable file.
func findBinary(name, pkg string, candidates []string) (string, error) {
	var looked []string
	for _, c := range candidates {
		if c == "" {
			continue
		}
		looked = append(looked, filepath.Dir(c))
		if info, err := os.Stat(c); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", &MissingBinaryError{Binary: name, Package: pkg, Looked: dedupe(looked)}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// lookPath is exec.LookPath returning "" when the program is not on PATH.
func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
