// Package atomicfile writes a file so that a reader (or a crash) sees
// either the old content or the new one, never a part: the data goes to a
// temporary file in the same directory, is synced to disk, and is renamed
// over the target; the directory is synced after the rename so the new
// name survives a crash too.
//
// On any error the target is untouched and the temporary file removed.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, with permissions perm (not filtered by the
// umask: a secret file asked for 0600 is 0600).
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		// Best effort: some file systems refuse to sync a directory.
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// TempPrefix is the name prefix of Write's temporary files for path, so
// that a program killed during a write can find what it left behind.
func TempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp-"
}
