package awslocal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/rotorhq/rotor/internal/atomicfile"
)

// The state file and its journal.
//
// With Options.StateFile the state lives in two files: a snapshot (the
// state file itself, written whole by atomicfile) and a journal next to it
// (StateFile + ".journal") that a request appends to. A request that
// changed secrets appends one line per changed secret (its whole record, or
// its removal) and is answered only once the group of appends containing it
// is synced to disk. One writer goroutine takes every append queued while
// the previous sync ran (plus Options.CommitDelay) and syncs them with one
// fsync: a group commit. When the journal has grown past the snapshot's
// size (1 MiB at least), the next change writes a new snapshot instead,
// which supersedes every queued append before it, so the cost of a
// snapshot is spread over as many bytes of journal as it holds.
//
// The snapshot carries a generation number and the journal's first line
// names the generation it extends; load replays the journal only onto the
// snapshot of its generation (a crash between a snapshot's rename and the
// fresh journal's leaves a journal already contained in the snapshot, and
// it is ignored). A torn last line, from a kill during an append, was never
// acknowledged and is dropped. New writes a fresh snapshot after loading.
//
// On failure: a group that cannot be written (disk full, I/O error) is cut
// off the journal again and its requests are answered InternalServiceError,
// never success; the change stays in memory, so the SDK's retry of the same
// request (same ClientRequestToken) succeeds and is journaled then. Changes
// outside requests (mutated, a rotation's end) log the failure.

// journalSuffix names the journal next to the state file.
const journalSuffix = ".journal"

// minSnapshotBytes is the journal size below which no snapshot is taken.
const minSnapshotBytes = 1 << 20

// journalRecord is one line of the journal: a secret's whole record, or
// the ARN of a removed secret.
type journalRecord struct {
	Put *secret `json:"put,omitempty"`
	Del string  `json:"del,omitempty"`
}

type journalHeader struct {
	Gen uint64 `json:"gen"`
}

// commit is one queued change: journal lines, or a whole snapshot (which
// supersedes the commits queued before it).
type commit struct {
	seq  uint64
	recs []byte
	snap []byte
	gen  uint64
}

// store is the persistence side of a Server with a state file.
type store struct {
	path  string
	delay time.Duration

	// Guarded by Server.mu: what the next commit holds.
	seq       uint64
	gen       uint64
	dirty     map[*secret]bool
	removed   []string
	sinceSnap int
	snapSize  int

	mu      sync.Mutex
	work    *sync.Cond // a commit was queued, or closed
	done    *sync.Cond // durable advanced
	queue   []commit
	durable uint64
	closed  bool
	stopped chan struct{}

	jf    *os.File // the journal, written by the writer goroutine only
	jsize int64    // its size after the last good append

	failed []failedGroup // groups that could not be written (rare)
}

// failedGroup is a range of commits whose write failed.
type failedGroup struct {
	lo, hi uint64
	err    error
}

func newStore(path string, delay time.Duration) *store {
	st := &store{path: path, delay: delay, dirty: map[*secret]bool{}, stopped: make(chan struct{})}
	st.work = sync.NewCond(&st.mu)
	st.done = sync.NewCond(&st.mu)
	return st
}

func (st *store) journalPath() string { return st.path + journalSuffix }

// markDirty records that sec changed in the request being served. Caller
// holds s.mu.
func (s *Server) markDirty(sec *secret) {
	if s.store != nil {
		s.store.dirty[sec] = true
	}
}

// markRemoved records that the secret with this ARN was removed. Caller
// holds s.mu.
func (s *Server) markRemoved(arn string) {
	if s.store != nil {
		s.store.removed = append(s.store.removed, arn)
	}
}

// commitChanges queues the changes marked since the last commit and
// returns the sequence number to wait for (0: nothing to wait for). Caller
// holds s.mu.
func (s *Server) commitChanges() uint64 {
	st := s.store
	if st == nil || (len(st.dirty) == 0 && len(st.removed) == 0) {
		return 0
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, arn := range st.removed {
		_ = enc.Encode(journalRecord{Del: arn})
	}
	// Map order is fine: each secret appears once per commit.
	for sec := range st.dirty {
		if s.byARN[sec.ARN] != sec {
			continue // created and removed within the request; removed already recorded
		}
		if err := enc.Encode(journalRecord{Put: sec}); err != nil {
			s.log.Error("encode journal record", "secret", sec.ARN, "err", err)
		}
	}
	clear(st.dirty)
	st.removed = st.removed[:0]
	st.sinceSnap += buf.Len()
	if st.sinceSnap > max(st.snapSize, minSnapshotBytes) {
		return s.commitSnapshot()
	}
	st.seq++
	return st.enqueue(commit{seq: st.seq, recs: buf.Bytes()})
}

// commitSnapshot queues a whole snapshot of the state. Caller holds s.mu.
func (s *Server) commitSnapshot() uint64 {
	st := s.store
	clear(st.dirty)
	st.removed = st.removed[:0]
	st.gen++
	data, err := json.Marshal(persistedState{Gen: st.gen, Secrets: s.secrets, Instances: s.instances, Clusters: s.clusters, Topics: s.topics})
	if err != nil {
		s.log.Error("encode state", "err", err)
		return 0
	}
	st.sinceSnap, st.snapSize = 0, len(data)
	st.seq++
	return st.enqueue(commit{seq: st.seq, snap: data, gen: st.gen})
}

func (st *store) enqueue(c commit) uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return 0
	}
	st.queue = append(st.queue, c)
	st.work.Signal()
	return c.seq
}

// wait returns once the commit numbered seq is on disk (or the store is
// closed), or the error that kept it off the disk.
func (st *store) wait(seq uint64) error {
	if st == nil || seq == 0 {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.durable < seq && !st.closed {
		st.done.Wait()
	}
	for _, f := range st.failed {
		if f.lo <= seq && seq <= f.hi {
			return f.err
		}
	}
	return nil
}

// writeLoop is the writer goroutine: one group of commits, one sync.
func (s *Server) writeLoop() {
	st := s.store
	defer close(st.stopped)
	for {
		st.mu.Lock()
		for len(st.queue) == 0 && !st.closed {
			st.work.Wait()
		}
		if len(st.queue) == 0 {
			st.mu.Unlock()
			return
		}
		if st.delay > 0 && !st.closed {
			st.mu.Unlock()
			time.Sleep(st.delay)
			st.mu.Lock()
		}
		group := st.queue
		st.queue = nil
		st.mu.Unlock()

		err := st.write(group)
		if err != nil {
			s.log.Error("write state file", "err", err)
		}
		st.mu.Lock()
		if err != nil {
			st.failed = append(st.failed, failedGroup{group[0].seq, group[len(group)-1].seq, err})
		}
		st.durable = group[len(group)-1].seq
		st.done.Broadcast()
		st.mu.Unlock()
	}
}

// write puts one group on disk: the last snapshot in it, if any, then the
// journal lines queued after it, then one sync.
func (st *store) write(group []commit) error {
	from := 0
	for i, c := range group {
		if c.snap != nil {
			from = i
		}
	}
	if c := group[from]; c.snap != nil {
		if err := st.writeSnapshot(c.snap, c.gen); err != nil {
			return err
		}
		from++
	}
	var buf []byte
	for _, c := range group[from:] {
		buf = append(buf, c.recs...)
	}
	if len(buf) == 0 {
		return nil
	}
	if st.jf == nil {
		return fmt.Errorf("append to %s: no journal open", st.journalPath())
	}
	_, err := st.jf.Write(buf)
	if err == nil {
		err = st.jf.Sync()
	}
	if err != nil {
		// Cut a partial append off so that later appends follow whole
		// lines; this group's requests are answered with the error.
		_ = st.jf.Truncate(st.jsize)
		return fmt.Errorf("append to %s: %w", st.journalPath(), err)
	}
	st.jsize += int64(len(buf))
	return nil
}

// writeSnapshot replaces the state file, then starts an empty journal of
// generation gen.
func (st *store) writeSnapshot(data []byte, gen uint64) error {
	if err := atomicfile.Write(st.path, data, 0o600); err != nil {
		return err
	}
	if st.jf != nil {
		st.jf.Close()
		st.jf = nil
	}
	head, _ := json.Marshal(journalHeader{Gen: gen})
	if err := atomicfile.Write(st.journalPath(), append(head, '\n'), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(st.journalPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", st.journalPath(), err)
	}
	st.jf, st.jsize = f, int64(len(head)+1)
	return nil
}

// close drains the queue and stops the writer.
func (st *store) close() {
	st.mu.Lock()
	st.closed = true
	st.work.Broadcast()
	st.done.Broadcast()
	st.mu.Unlock()
	<-st.stopped
	if st.jf != nil {
		st.jf.Close()
		st.jf = nil
	}
}

// load reads the snapshot and replays its journal. Caller is New.
func (s *Server) load() error {
	data, err := os.ReadFile(s.opts.StateFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read state file: %w", err)
	}
	var ps persistedState
	if err == nil {
		if err := json.Unmarshal(data, &ps); err != nil {
			return fmt.Errorf("parse state file %s: %w", s.opts.StateFile, err)
		}
	}
	secrets, err := s.replayJournal(ps.Gen, ps.Secrets)
	if err != nil {
		return err
	}
	s.instances, s.clusters, s.topics = ps.Instances, ps.Clusters, ps.Topics
	sort.SliceStable(secrets, func(i, j int) bool { return secrets[i].Created.Before(secrets[j].Created) })
	s.secrets = nil
	for _, sec := range secrets {
		s.addSecret(sec)
	}
	s.store.gen = ps.Gen
	return nil
}

// replayJournal applies the journal of generation gen to secrets.
func (s *Server) replayJournal(gen uint64, secrets []*secret) ([]*secret, error) {
	path := s.store.journalPath()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return secrets, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	var head journalHeader
	if err != nil || json.Unmarshal(line, &head) != nil || head.Gen != gen {
		return secrets, nil // another generation's, or no header: contained in the snapshot
	}
	at := make(map[string]int, len(secrets))
	for i, sec := range secrets {
		at[sec.ARN] = i
	}
	n := 0
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				s.log.Info("dropped a torn journal line (an unacknowledged write)", "file", path)
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read journal %s: %w", path, err)
		}
		var rec journalRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("parse journal %s line %d: %w", path, n+2, err)
		}
		n++
		switch {
		case rec.Put != nil:
			if i, ok := at[rec.Put.ARN]; ok {
				secrets[i] = rec.Put
			} else {
				at[rec.Put.ARN] = len(secrets)
				secrets = append(secrets, rec.Put)
			}
		case rec.Del != "":
			if i, ok := at[rec.Del]; ok {
				secrets[i] = nil
				delete(at, rec.Del)
			}
		}
	}
	out := secrets[:0]
	for _, sec := range secrets {
		if sec != nil {
			out = append(out, sec)
		}
	}
	return out, nil
}
