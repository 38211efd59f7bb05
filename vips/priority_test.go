package vips

import (
	"syscall"
	"testing"
)

// niceOfThisThread reads the calling thread's nice value. The raw
// getpriority system call, which syscall.Getpriority is, returns 20 - nice.
func niceOfThisThread(t *testing.T) int {
	t.Helper()
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

// TestLowPriority checks that fn runs at nice renderNice, that the
// caller's thread keeps its own priority, and that a panic in fn reaches
// the caller.
func TestLowPriority(t *testing.T) {
	before := niceOfThisThread(t)
	got := lowPriority(func() int { return niceOfThisThread(t) })
	if got != renderNice {
		t.Errorf("nice inside lowPriority: got %d, want %d", got, renderNice)
	}
	if after := niceOfThisThread(t); after != before {
		t.Errorf("nice of the caller's thread: got %d after, %d before", after, before)
	}

	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want the panic of fn", r)
		}
	}()
	lowPriority(func() int { panic("boom") })
	t.Error("lowPriority returned after fn panicked")
}
