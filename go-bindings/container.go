package librune

/*
#include <stdlib.h>
#include "rune.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// CreateOptions says how to create a container (the rune CLI's create flags). Set Bundle, or
// Config (and usually Rootfs).
type CreateOptions struct {
	// Bundle is a bundle directory: config.json and the rootfs its root.path names.
	Bundle string
	// Config is a config.json document, used when Bundle is empty.
	Config []byte
	// Rootfs is the root filesystem directory for Config; it replaces root.path. When empty,
	// root.path must be absolute.
	Rootfs string
	// PidFile receives the init's pid once the container is created.
	PidFile string
	// ConsoleSocket receives the pty master of a container whose process asks for a terminal.
	ConsoleSocket string
	// NoPivot uses MS_MOVE and chroot instead of pivot_root.
	NoPivot bool
	// NoNewKeyring keeps the caller's session keyring.
	NoNewKeyring bool
	// PreserveFDs passes the caller's fds 3 .. 3+PreserveFDs-1 to the container process.
	PreserveFDs uint32
	// Enclave, when set, runs the container's process in an enclave runtime.
	Enclave *Enclave
}

// Enclave names the enclave runtime of an enclave container (the enclave.* annotations).
type Enclave struct {
	// Type is intelSgx, awsNitroEnclaves, jailhouse or sim.
	Type string
	// RuntimePath is the host path of the enclave runtime (PAL) library.
	RuntimePath string
	// Args are the runtime's options, comma-separated (passed to pal_init joined by spaces).
	Args string
	// LogLevel is the runtime's log level (default info).
	LogLevel string
}

// Status is a container's status.
type Status int

// Container statuses, as in the OCI state.
const (
	StatusCreating Status = C.RUNE_STATUS_CREATING
	StatusCreated  Status = C.RUNE_STATUS_CREATED
	StatusRunning  Status = C.RUNE_STATUS_RUNNING
	StatusPaused   Status = C.RUNE_STATUS_PAUSED
	StatusStopped  Status = C.RUNE_STATUS_STOPPED
)

func (s Status) String() string {
	switch s {
	case StatusCreating:
		return "creating"
	case StatusCreated:
		return "created"
	case StatusRunning:
		return "running"
	case StatusPaused:
		return "paused"
	case StatusStopped:
		return "stopped"
	}
	return "unknown"
}

// State is a container's OCI state document (rune state).
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     string            `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Container is a handle to a container. Closing it does not touch the container. Safe for
// concurrent use.
type Container struct {
	h  *handle
	id string
}

func newContainer(p *C.rune_container_t) *Container {
	c := &Container{
		id: C.GoString(C.rune_container_id(p)),
		h: &handle{
			ptr:  unsafe.Pointer(p),
			what: "rune container",
			free: func(p unsafe.Pointer) { C.rune_container_free((*C.rune_container_t)(p)) },
		},
	}
	runtime.SetFinalizer(c, (*Container).Close)
	return c
}

func (c *Container) with(f func(*C.rune_container_t) error) error {
	p, err := c.h.acquire()
	if err != nil {
		return err
	}
	defer c.h.release()
	return f((*C.rune_container_t)(p))
}

// Create creates container id (rune create): its init is started and set up, and waits for
// Start. The init is a child of this process; reap it with Wait.
//
// A ctx done before the call gives ctx.Err() and creates nothing. librune cannot stop a create
// half-way, so a ctx done during the call is seen when it returns: the new container is deleted
// (its init killed and reaped) and Create returns ctx.Err().
func (x *Runtime) Create(ctx context.Context, id string, opts *CreateOptions) (*Container, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts == nil {
		return nil, errArg("no create options")
	}
	cid, err := cString(id, "id")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cid))
	co, err := opts.toC()
	if err != nil {
		return nil, err
	}
	defer C.rune_create_options_free(co)
	var out *C.rune_container_t
	err = x.with(func(rc *C.rune_context_t) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var e *C.rune_error_t
		return check(C.rune_container_create(rc, cid, co, &out, &e), e)
	})
	if err != nil {
		return nil, err
	}
	c := newContainer(out)
	if err := ctx.Err(); err != nil {
		// Cancelled while librune created it: undo. A forced delete kills the init and, as it
		// is gone, reaps it.
		_ = c.Delete(true)
		c.Close()
		return nil, err
	}
	return c, nil
}

func (o *CreateOptions) toC() (*C.rune_create_options_t, error) {
	var co *C.rune_create_options_t
	var e *C.rune_error_t
	if err := check(C.rune_create_options_new(&co, &e), e); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			C.rune_create_options_free(co)
		}
	}()
	var err error
	switch {
	case o.Bundle != "":
		err = setString(o.Bundle, "bundle", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
			return C.rune_create_options_set_bundle(co, s, e)
		})
	case len(o.Config) > 0:
		var cfg, rootfs *C.char
		if cfg, err = cString(string(o.Config), "config"); err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(cfg))
		if o.Rootfs != "" {
			if rootfs, err = cString(o.Rootfs, "rootfs"); err != nil {
				return nil, err
			}
			defer C.free(unsafe.Pointer(rootfs))
		}
		var e *C.rune_error_t
		err = check(C.rune_create_options_set_config_json(co, cfg, rootfs, &e), e)
	}
	if err != nil {
		return nil, err
	}
	for _, step := range []func() error{
		func() error {
			return setString(o.PidFile, "pid file", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_create_options_set_pid_file(co, s, e)
			})
		},
		func() error {
			return setString(o.ConsoleSocket, "console socket", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_create_options_set_console_socket(co, s, e)
			})
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_create_options_set_no_pivot(co, C.bool(o.NoPivot), &e), e)
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_create_options_set_no_new_keyring(co, C.bool(o.NoNewKeyring), &e), e)
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_create_options_set_preserve_fds(co, C.uint32_t(o.PreserveFDs), &e), e)
		},
		func() error { return o.setEnclave(co) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	ok = true
	return co, nil
}

// Load returns a handle to existing container id; an ErrNotFound error when there is none.
func (x *Runtime) Load(id string) (*Container, error) {
	cid, err := cString(id, "id")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cid))
	var out *C.rune_container_t
	err = x.with(func(rc *C.rune_context_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_load(rc, cid, &out, &e), e)
	})
	if err != nil {
		return nil, err
	}
	return newContainer(out), nil
}

// ID returns the container's id.
func (c *Container) ID() string { return c.id }

// Close frees the handle (once calls in flight, including a Wait, have returned); the
// container itself is untouched. Closing twice is harmless.
func (c *Container) Close() error {
	c.h.close()
	return nil
}

// Start starts a created container's process (rune start). A ctx done before the call gives
// ctx.Err() and leaves the container created; one done during the call (which librune cannot
// interrupt) is seen when it returns: what was started is killed (SIGKILL to all of the
// container's processes; Wait reaps the init) and Start returns ctx.Err().
func (c *Container) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_start(p, &e), e)
	})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = c.Kill(syscall.SIGKILL, true)
		return err
	}
	return nil
}

// Kill sends sig to the container's init, or with all to every process in its cgroup.
func (c *Container) Kill(sig syscall.Signal, all bool) error {
	return c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_kill(p, C.int32_t(sig), C.bool(all), &e), e)
	})
}

// Delete deletes the container: its processes, cgroup and state (rune delete). A created or
// stopped container is deleted as is; a running or paused one only with force (it is killed),
// else an ErrInvalidState error. The handle stays to be closed.
func (c *Container) Delete(force bool) error {
	return c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_delete(p, C.bool(force), &e), e)
	})
}

// State returns the container's OCI state, read afresh (ErrNotFound once it is deleted).
func (c *Container) State() (*State, error) {
	var s State
	err := c.with(func(p *C.rune_container_t) error {
		var out *C.char
		var e *C.rune_error_t
		if err := check(C.rune_container_state_json(p, &out, &e), e); err != nil {
			return err
		}
		return json.Unmarshal([]byte(goString(out)), &s)
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Status returns the container's current status.
func (c *Container) Status() (Status, error) {
	var s C.rune_status_t
	err := c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_status(p, &s, &e), e)
	})
	return Status(s), err
}

// Pid returns the pid of the container's init, or 0 when it is stopped.
func (c *Container) Pid() (int, error) {
	var pid C.int32_t
	err := c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_pid(p, &pid, &e), e)
	})
	return int(pid), err
}

// Wait waits until the container's init exits and returns its exit code (128+N when killed by
// signal N). Only for containers created by this process through the same Runtime (else an
// ErrInvalidState error). Several Waits may run at once; all get the code, and so does every
// later Wait.
//
// When ctx is done first, Wait returns ctx.Err() within waitSlice, and nothing of it is left
// running: it waits in librune in slices (rune_container_wait_timeout), checking ctx between
// them. The init is then not reaped until a later Wait, Delete or Close.
func (c *Container) Wait(ctx context.Context) (int, error) {
	code := -1
	err := c.with(func(p *C.rune_container_t) error {
		var err error
		code, err = waitInSlices(ctx, func(ms C.int32_t, exited *C.bool, code *C.int32_t) error {
			var e *C.rune_error_t
			return check(C.rune_container_wait_timeout(p, ms, exited, code, &e), e)
		})
		return err
	})
	return code, err
}

// waitSlice is the longest one librune wait of Container.Wait or Process.Wait blocks before it
// checks its context again: how long a cancelled Wait takes at most to return.
const waitSlice = 50 * time.Millisecond

// waitInSlices calls wait, a librune wait with a limit in milliseconds, until the process has
// exited (its exit code), wait fails, or ctx is done (ctx.Err()).
func waitInSlices(ctx context.Context, wait func(ms C.int32_t, exited *C.bool, code *C.int32_t) error) (int, error) {
	for {
		if err := ctx.Err(); err != nil {
			return -1, err
		}
		slice := waitSlice
		if d, ok := ctx.Deadline(); ok && time.Until(d) < slice {
			slice = time.Until(d)
		}
		ms := C.int32_t(slice.Milliseconds())
		if ms < 1 {
			ms = 1
		}
		var exited C.bool
		var code C.int32_t
		if err := wait(ms, &exited, &code); err != nil {
			return -1, err
		}
		if exited {
			return int(code), nil
		}
	}
}

func (o *CreateOptions) setEnclave(co *C.rune_create_options_t) error {
	if o.Enclave == nil {
		return nil
	}
	strs := []string{o.Enclave.Type, o.Enclave.RuntimePath, o.Enclave.Args, o.Enclave.LogLevel}
	cs := make([]*C.char, len(strs))
	for i, v := range strs {
		if v == "" && i >= 2 {
			continue // optional: NULL
		}
		s, err := cString(v, "enclave setting")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(s))
		cs[i] = s
	}
	var e *C.rune_error_t
	return check(C.rune_create_options_set_enclave(co, cs[0], cs[1], cs[2], cs[3], &e), e)
}

// Pause freezes every process of the container (rune pause).
func (c *Container) Pause() error {
	return c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_pause(p, &e), e)
	})
}

// Resume thaws a paused container (rune resume).
func (c *Container) Resume() error {
	return c.with(func(p *C.rune_container_t) error {
		var e *C.rune_error_t
		return check(C.rune_container_resume(p, &e), e)
	})
}
