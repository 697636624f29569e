// Command zipdeterministic writes a Lambda deployment zip whose bytes depend
// only on its inputs: fixed timestamps, fixed order, the executable bit set,
// so `make build` twice gives the same source_code_hash and Terraform sees no
// change. Usage: zipdeterministic FILE... OUT.zip (files relative to the
// current directory).
package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: zipdeterministic FILE... OUT.zip")
		os.Exit(2)
	}
	files := os.Args[1 : len(os.Args)-1]
	out := os.Args[len(os.Args)-1]
	sort.Strings(files)
	if err := write(out, files); err != nil {
		fmt.Fprintln(os.Stderr, "zipdeterministic:", err)
		os.Exit(1)
	}
}

func write(out string, files []string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	epoch := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: epoch}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		src, err := os.Open(name)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
