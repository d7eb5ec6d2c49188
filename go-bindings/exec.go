package librune

/*
#include <stdlib.h>
#include "rune.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"syscall"
)

// User is a uid and gid inside the container.
type User struct {
	UID, GID uint32
}

// ExecOptions says what to run in a container (the rune CLI's exec flags). Set Args, or
// Process; the other fields apply on top of the container's own process (or of Process).
type ExecOptions struct {
	// Args is the command; Args[0] is the program.
	Args []string
	// Env holds KEY=VALUE entries added to the process's environment.
	Env []string
	// Cwd is the working directory, an absolute path in the container.
	Cwd string
	// User runs the process as this uid and gid.
	User *User
	// Terminal gives the process a pty, whose master is sent to ConsoleSocket.
	Terminal      bool
	ConsoleSocket string
	// Detach lets librune reap the process; the returned Process cannot be waited for.
	Detach bool
	// PidFile receives the process's pid.
	PidFile string
	// PreserveFDs passes the caller's fds 3 .. 3+PreserveFDs-1 to the process.
	PreserveFDs uint32
	// Process is a whole OCI process object (JSON), instead of the container's own process.
	Process []byte
}

// Process is a process started by Container.Exec (or, for Wait, any child of this process).
type Process struct {
	// Pid is the process's pid (in this process's pid namespace).
	Pid int

	detached bool
	once     sync.Once
	// turn holds one token, taken by the Wait that is in librune: one waitpid at a time.
	turn chan struct{}
	// Once reaped (guarded by the token): the exit code, or the error of the wait.
	reaped bool
	code   int
	err    error
}

// Exec runs another process in the container (rune exec) and returns once it runs. Unless
// opts.Detach is set, the process is a child of this process: Wait for it.
//
// A ctx done before the call gives ctx.Err() and starts nothing. librune cannot interrupt an
// exec, so a ctx done during the call is seen when it returns: a process to be waited for is
// killed and reaped, and Exec returns nil and ctx.Err(). A detached process is not killed
// (librune reaps it, so by then its pid may name another process): Exec returns it with
// ctx.Err().
func (c *Container) Exec(ctx context.Context, opts *ExecOptions) (*Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts == nil {
		return nil, errArg("no exec options")
	}
	eo, err := opts.toC()
	if err != nil {
		return nil, err
	}
	defer C.rune_exec_options_free(eo)
	var pid C.int32_t
	err = c.with(func(p *C.rune_container_t) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var e *C.rune_error_t
		return check(C.rune_container_exec(p, eo, &pid, &e), e)
	})
	if err != nil {
		return nil, err
	}
	proc := &Process{Pid: int(pid), detached: opts.Detach}
	if err := ctx.Err(); err != nil {
		if proc.detached {
			return proc, err
		}
		// Our child, not reaped yet: its pid is still its own.
		_ = syscall.Kill(proc.Pid, syscall.SIGKILL)
		_, _ = proc.Wait(context.Background())
		return nil, err
	}
	return proc, nil
}

// Wait waits for the process to exit and returns its exit code (128+N when killed by signal
// N); later Waits return the same. When ctx is done first, Wait returns ctx.Err() within
// waitSlice and leaves nothing running (see Container.Wait); the process is reaped by a later
// Wait.
func (p *Process) Wait(ctx context.Context) (int, error) {
	if p.detached {
		return -1, &Error{Code: CodeInvalidState, Message: "a detached process cannot be waited for"}
	}
	p.once.Do(func() {
		p.turn = make(chan struct{}, 1)
		p.turn <- struct{}{}
	})
	select {
	case <-p.turn:
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	defer func() { p.turn <- struct{}{} }()
	if p.reaped {
		return p.code, p.err
	}
	code, err := waitInSlices(ctx, func(ms C.int32_t, exited *C.bool, code *C.int32_t) error {
		var e *C.rune_error_t
		return check(C.rune_process_wait_timeout(C.int32_t(p.Pid), ms, exited, code, &e), e)
	})
	if err == nil || err != ctx.Err() {
		p.reaped, p.code, p.err = true, code, err
	}
	return code, err
}

func (o *ExecOptions) toC() (*C.rune_exec_options_t, error) {
	var eo *C.rune_exec_options_t
	var e *C.rune_error_t
	if err := check(C.rune_exec_options_new(&eo, &e), e); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			C.rune_exec_options_free(eo)
		}
	}()
	list := func(v []string, what string, set func(**C.char, C.size_t, **C.rune_error_t) C.rune_result_t) error {
		if len(v) == 0 {
			return nil
		}
		cs, err := newCStrings(v, what)
		if err != nil {
			return err
		}
		defer cs.free()
		var e *C.rune_error_t
		return check(set(cs.arr, cs.len(), &e), e)
	}
	steps := []func() error{
		func() error {
			if len(o.Process) == 0 {
				return nil
			}
			return setString(string(o.Process), "process", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_process_json(eo, s, e)
			})
		},
		func() error {
			return list(o.Args, "args", func(a **C.char, n C.size_t, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_args(eo, a, n, e)
			})
		},
		func() error {
			return list(o.Env, "env", func(a **C.char, n C.size_t, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_env(eo, a, n, e)
			})
		},
		func() error {
			return setString(o.Cwd, "cwd", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_cwd(eo, s, e)
			})
		},
		func() error {
			if o.User == nil {
				return nil
			}
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_user(eo, C.uint32_t(o.User.UID), C.uint32_t(o.User.GID), &e), e)
		},
		func() error {
			if !o.Terminal {
				return nil
			}
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_terminal(eo, C.bool(true), &e), e)
		},
		func() error {
			return setString(o.ConsoleSocket, "console socket", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_console_socket(eo, s, e)
			})
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_detach(eo, C.bool(o.Detach), &e), e)
		},
		func() error {
			return setString(o.PidFile, "pid file", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_pid_file(eo, s, e)
			})
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_preserve_fds(eo, C.uint32_t(o.PreserveFDs), &e), e)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	ok = true
	return eo, nil
}
