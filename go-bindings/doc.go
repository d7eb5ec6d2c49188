// Package librune runs OCI containers through librune, the C library of the rune container
// runtime (a drop-in for runc that also runs enclave runtimes). (It is not named rune, which
// would shadow Go's predeclared rune type.)
//
// A Runtime names the state root (the rune CLI's --root, /run/rune by default) and the rune
// binary librune executes as `rune init` for every container and exec'd process. Containers
// are created from a bundle directory or from a config.json document plus a root filesystem:
//
//	rt, err := librune.NewRuntime("/run/rune")
//	if err != nil { ... }
//	defer rt.Close()
//	c, err := rt.Create(ctx, "demo", &librune.CreateOptions{Config: configJSON, Rootfs: "/srv/rootfs"})
//	if err != nil { ... }
//	defer c.Close()
//	if err := c.Start(ctx); err != nil { ... }
//	code, err := c.Wait(ctx) // the exit code, 128+N when killed by signal N
//	err = c.Delete(false)
//
// # Building and running
//
// cgo compiles against ../include/rune.h and links -lrune from ../target/release (the output of
// `make capi`); set CGO_LDFLAGS=-L<dir> to link a librune built elsewhere, and LD_LIBRARY_PATH
// (or install librune) to run. The rune binary is found through Runtime.SetInitBinary, else
// $RUNE_INIT_BINARY, else <libdir>/../libexec/rune/rune next to the installed librune, else
// `rune` on $PATH. Running containers needs root.
//
// # Errors
//
// Every error from librune is an *Error carrying a result code, the errno of a failed system
// call, and a message. Test for a kind with errors.Is(err, librune.ErrNotFound) (one sentinel
// per code), read the fields with errors.As, and test the errno with
// errors.Is(err, syscall.ENOENT).
//
// # Cancellation
//
// Create, Start and Exec take a context. Done before the call, they do nothing and return
// ctx.Err(). librune cannot interrupt them half-way, so a context done during the call is seen
// when it returns: what the call made is undone (the container deleted, the started processes
// killed) and ctx.Err() returned. Container.Wait and Process.Wait wait in librune in slices of
// at most 50ms (rune_container_wait_timeout, rune_process_wait_timeout), checking the context
// between them: a cancelled Wait returns ctx.Err() within that time and leaves no goroutine
// behind, blocked in librune.
//
// # Concurrency and processes
//
// All methods are safe for concurrent use, also on the same Runtime or Container. Close frees
// the C handle once calls in flight (including a Wait) have returned. Containers created here
// have their init as a child of this process: Container.Wait reaps it (deleting the container
// or closing the handle reaps it too once it has exited). Create and Exec lock the calling
// goroutine to its OS thread for the duration of the call, because the new process's
// parent-death signal is tied to the thread that started it until its set-up is done.
package librune
