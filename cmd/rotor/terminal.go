package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// fdWriter is a writer backed by a file descriptor (an *os.File).
type fdWriter interface {
	io.Writer
	Fd() uintptr
}

// isTerminal reports whether w is a terminal that takes "\r" and the erase
// sequence: a file descriptor that answers terminal ioctls, and TERM is not
// "dumb". Files, pipes and buffers are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(fdWriter)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
}

// terminalWidth is w's width in columns, or 0 when it cannot be told.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(fdWriter); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 0
}
