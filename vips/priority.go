package vips

import (
	"runtime"
	"syscall"
)

// renderNice is the nice value of the threads that decode and encode
// images. Above the 0 of the HTTP handlers, it makes image work take the
// cores only when requests leave them idle: measured with the load script
// on two cores, reads waited for a core behind 16 concurrent uploads and
// their renders (docs/performance.md).
const renderNice = 10

// lowPriority runs fn on an OS thread of its own at nice renderNice and
// returns its result. libvips' worker threads are started by the thread
// that first needs them and inherit its nice value, so they run at
// renderNice too. The thread is never unlocked: it ends with fn's
// goroutine, because a process without CAP_SYS_NICE cannot lower its nice
// value again, and Go must not hand a niced thread to other goroutines.
// Where setting the priority fails, fn runs at normal priority.
func lowPriority[T any](fn func() T) T {
	type result struct {
		v     T
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), renderNice)
		var r result
		defer func() {
			// A panic goes back to the caller's goroutine, as if fn had
			// run there.
			r.panic = recover()
			done <- r
		}()
		r.v = fn()
	}()
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.v
}
