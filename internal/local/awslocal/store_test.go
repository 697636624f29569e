package awslocal_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A read writes the state only when it changes a stored LastAccessedDate:
// the first read of the day appends to the journal, the next ones do not.
func TestStateFileReadPersistsOnlyNewDay(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	clock := awslocal.NewFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{StateFile: path, Clock: clock})
	sm := secretsmanager.NewFromConfig(cfg)
	create(t, sm, "read", "v1")
	journal := path + ".journal"
	get := func() {
		t.Helper()
		if _, err := sm.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("read")}); err != nil {
			t.Fatal(err)
		}
	}
	before := fileSize(t, journal)
	get()
	first := fileSize(t, journal)
	if first <= before {
		t.Fatalf("the first read of the day did not persist LastAccessedDate (journal %d → %d bytes)", before, first)
	}
	clock.Set(clock.Now().Add(time.Hour))
	get()
	get()
	if got := fileSize(t, journal); got != first {
		t.Fatalf("reads on the same day wrote the journal: %d → %d bytes", first, got)
	}
	clock.Set(clock.Now().Add(24 * time.Hour))
	get()
	if got := fileSize(t, journal); got <= first {
		t.Fatalf("the first read of the next day did not persist (journal %d bytes)", got)
	}
	_ = srv

	// The journal is replayed at the next start.
	_, cfg2 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path, Clock: clock})
	d, err := secretsmanager.NewFromConfig(cfg2).DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("read")})
	if err != nil || !aws.ToTime(d.LastAccessedDate).Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after reload: LastAccessedDate %v, %v", d.LastAccessedDate, err)
	}
}

// A torn last journal line (a kill during an append, never acknowledged)
// is dropped; a journal of another generation than the snapshot's (a kill
// between a snapshot and its fresh journal) is ignored.
func TestStateFileJournalRecovery(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	journal := path + ".journal"
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	sm := secretsmanager.NewFromConfig(cfg)
	create(t, sm, "a", "v1")
	put(t, sm, "a", token(2), "v2")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"put":{"arn":"arn:aws:secretsmanager:us-east-1:1:secret:torn-AAAAAA","na`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	srv2, cfg2 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	sm2 := secretsmanager.NewFromConfig(cfg2)
	wantLabels(t, sm2, "a", map[string][]string{token(1): {"AWSPREVIOUS"}, token(2): {"AWSCURRENT"}})
	put(t, sm2, "a", token(3), "v3") // appended to the fresh journal the start wrote
	arn := aws.ToString(describe(t, sm2, "a").ARN)
	if err := srv2.Close(); err != nil {
		t.Fatal(err)
	}

	// A start folds the journal into a new snapshot; a journal of the
	// generation before it (what a kill between the snapshot's rename and
	// the fresh journal's leaves) must not be replayed onto it.
	srv3, _ := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	if err := srv3.Close(); err != nil {
		t.Fatal(err)
	}
	var snap struct{ JournalGen int }
	if data, err := os.ReadFile(path); err != nil || json.Unmarshal(data, &snap) != nil || snap.JournalGen < 2 {
		t.Fatalf("snapshot generation %d: %v", snap.JournalGen, err)
	}
	stale := fmt.Sprintf(`{"gen":%d}`, snap.JournalGen-1) + "\n" + `{"del":"` + arn + `"}` + "\n"
	if err := os.WriteFile(journal, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	_, cfg3 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	wantLabels(t, secretsmanager.NewFromConfig(cfg3), "a", map[string][]string{token(2): {"AWSPREVIOUS"}, token(3): {"AWSCURRENT"}})
}

func describe(t *testing.T, sm *secretsmanager.Client, id string) *secretsmanager.DescribeSecretOutput {
	t.Helper()
	d, err := sm.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ListSecrets' NextToken is a cursor on creation order: secrets removed
// between pages shift nothing, secrets created between pages show up
// later, none is listed twice or skipped; desc walks backwards.
func TestListSecretsCursor(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	for _, n := range []string{"s1", "s2", "s3", "s4", "s5", "s6"} {
		create(t, sm, n, "v")
	}
	page := func(order string, next *string) ([]string, *string) {
		t.Helper()
		in := &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(2), NextToken: next}
		if order != "" {
			in.SortOrder = "desc"
		}
		out, err := sm.ListSecrets(ctxT(t), in)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range out.SecretList {
			names = append(names, aws.ToString(s.Name))
		}
		return names, out.NextToken
	}
	var all []string
	p, next := page("", nil)
	all = append(all, p...)
	// Between pages: remove a listed one and an unlisted one, add one.
	for _, n := range []string{"s1", "s4"} {
		if _, err := sm.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String(n), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	create(t, sm, "s7", "v")
	for next != nil {
		p, next = page("", next)
		all = append(all, p...)
	}
	if want := []string{"s1", "s2", "s3", "s5", "s6", "s7"}; !slices.Equal(all, want) {
		t.Fatalf("asc pages = %v, want %v", all, want)
	}
	all, next = page("desc", nil)
	for next != nil {
		p, next = page("desc", next)
		all = append(all, p...)
	}
	if want := []string{"s7", "s6", "s5", "s3", "s2"}; !slices.Equal(all, want) {
		t.Fatalf("desc pages = %v, want %v", all, want)
	}
	if _, err := sm.ListSecrets(ctxT(t), &secretsmanager.ListSecretsInput{NextToken: aws.String("not-a-token")}); err == nil {
		t.Fatal("a bad NextToken was accepted")
	}
}

// Once the journal outgrows the snapshot (1 MiB at least) a change writes a
// new snapshot and starts an empty journal; nothing is lost across it.
func TestStateFileSnapshotRollover(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	sm := secretsmanager.NewFromConfig(cfg)
	big := strings.Repeat("x", 60<<10)
	rolled := false
	for i := range 24 {
		prev := fileSize(t, path+".journal")
		create(t, sm, fmt.Sprintf("big-%02d", i), big)
		if fileSize(t, path+".journal") < prev {
			rolled = true
		}
	}
	if !rolled {
		t.Fatal("1.4 MiB of journal and no new snapshot")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	_, cfg2 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path})
	out, err := secretsmanager.NewFromConfig(cfg2).ListSecrets(ctxT(t), &secretsmanager.ListSecretsInput{})
	if err != nil || len(out.SecretList) != 24 {
		t.Fatalf("after reload: %d secrets, %v", len(out.SecretList), err)
	}
}

// The clock's work (a recovery window ending) and the Go API's changes to
// one secret are journalled like requests: the snapshot of every secret is
// not rewritten, and the change survives a restart.
func TestStateFileTickAndGoAPIJournalOneSecret(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	clock := awslocal.NewFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{StateFile: path, Clock: clock})
	sm := secretsmanager.NewFromConfig(cfg)
	for i := range 20 {
		create(t, sm, fmt.Sprintf("keep-%d", i), "v1")
	}
	create(t, sm, "doomed", "v1")
	if _, err := sm.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("doomed"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	snap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	journal := path + ".journal"
	before := fileSize(t, journal)

	clock.Set(clock.Now().Add(8 * 24 * time.Hour))
	srv.Tick()
	if err := srv.SetServiceTags("keep-3", awslocal.Tag{Key: "aws:cloudformation:stack-name", Value: "s"}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(snap) {
		t.Fatal("the Tick or SetServiceTags rewrote the snapshot of every secret; want journal records")
	}
	if got := fileSize(t, journal); got <= before {
		t.Fatalf("the removal and the tag were not journalled (journal %d → %d bytes)", before, got)
	}

	_, cfg2 := awslocaltest.NewWith(t, awslocal.Options{StateFile: path, Clock: clock})
	sm2 := secretsmanager.NewFromConfig(cfg2)
	if _, err := sm2.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("doomed")}); err == nil {
		t.Fatal("after reload: the secret whose recovery window ended is back")
	}
	d, err := sm2.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("keep-3")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(d.Tags, func(tg smtypes.Tag) bool { return aws.ToString(tg.Key) == "aws:cloudformation:stack-name" }) {
		t.Fatalf("after reload: the service tag is gone: %v", d.Tags)
	}
}
