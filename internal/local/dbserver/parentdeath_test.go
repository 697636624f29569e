package dbserver_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

// helperEnv makes the test binary act as a parent process that starts
// servers and then waits to be killed.
const helperEnv = "DBSERVER_TEST_ORPHAN_HELPER"

func TestOrphanHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return // only a helper process for TestServersStopWhenTheirParentDies
	}
	ctx := context.Background()
	pg, err := dbserver.StartPostgres(ctx, dbserver.PostgresOptions{DisableTLS: true})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	m, err := dbserver.StartMariaDB(ctx, dbserver.MariaDBOptions{DisableTLS: true})
	if err != nil {
		pg.Stop()
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("READY", pg.Port, pg.DataDir, pg.Dir, m.Port, m.Dir)
	select {} // until killed
}

func TestServersStopWhenTheirParentDies(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	var fields []string
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "ERROR") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("helper: %s", line)
		}
		if strings.HasPrefix(line, "READY ") {
			fields = strings.Fields(line)
			break
		}
	}
	if len(fields) != 6 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper did not report its servers (got %q)", fields)
	}
	pgPort, pgDataDir, pgDir, mariaPort, mariaDir := fields[1], fields[2], fields[3], fields[4], fields[5]
	t.Cleanup(func() {
		// The next StartPostgres/StartMariaDB would sweep these; do not wait.
		os.RemoveAll(pgDir)
		os.RemoveAll(mariaDir)
	})

	for _, port := range []string{pgPort, mariaPort} {
		if !accepting(port) {
			t.Fatalf("server on port %s is not accepting connections while its parent lives", port)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill helper: %v", err)
	}
	cmd.Wait()

	// Shutting down takes the servers a moment; a generous deadline only
	// bounds a failing test.
	deadline := time.Now().Add(30 * time.Second)
	for _, port := range []string{pgPort, mariaPort} {
		for accepting(port) {
			if time.Now().After(deadline) {
				t.Fatalf("server on port %s still accepts connections after its parent was killed", port)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for {
		_, err := os.Stat(filepath.Join(pgDataDir, "postmaster.pid"))
		if os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postmaster.pid still in %s after its parent was killed (stat: %v)", pgDataDir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func accepting(port string) bool {
	if _, err := strconv.Atoi(port); err != nil {
		return false
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
