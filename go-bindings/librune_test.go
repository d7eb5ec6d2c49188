package librune_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rune.example/go/librune"
)

// bg is the context of calls that are not cancelled.
var bg = context.Background()

// makeRootfs builds a busybox root filesystem from /bin/busybox in dir.
func makeRootfs(t *testing.T, dir string) string {
	t.Helper()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "proc", "sys", "dev", "etc", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	in, err := os.Open("/bin/busybox")
	if err != nil {
		t.Fatalf("%v (apt-get install busybox-static)", err)
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(rootfs, "bin/busybox"), os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "true", "sleep", "echo", "cat", "test", "id"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

// config returns a config.json document running args.
func config(args ...string) []byte {
	caps := []string{"CAP_KILL"}
	c := map[string]interface{}{
		"ociVersion": "1.0.2",
		"process": map[string]interface{}{
			"terminal": false,
			"user":     map[string]int{"uid": 0, "gid": 0},
			"args":     args,
			"env":      []string{"PATH=/bin"},
			"cwd":      "/",
			"capabilities": map[string][]string{
				"bounding": caps, "effective": caps, "permitted": caps,
			},
			"noNewPrivileges": true,
		},
		"root":     map[string]interface{}{"path": "rootfs", "readonly": true},
		"hostname": "rune-go",
		"mounts": []map[string]interface{}{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
				"options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		},
		"linux": map[string]interface{}{
			"namespaces": []map[string]string{
				{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"},
			},
		},
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

type env struct {
	rc     *librune.Runtime
	rootfs string
	state  string
}

// setup makes a context on a private state root and a busybox rootfs; at the end it checks
// that no container is left and frees the context.
func setup(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{rootfs: makeRootfs(t, dir), state: filepath.Join(dir, "state")}
	rc, err := librune.NewRuntime(e.state)
	if err != nil {
		t.Fatal(err)
	}
	e.rc = rc
	t.Cleanup(func() {
		left, err := rc.List()
		if err != nil {
			t.Error(err)
		}
		for _, s := range left {
			t.Errorf("container %s left behind (%s)", s.ID, s.Status)
			_ = rc.Delete(s.ID, true)
		}
		if entries, _ := os.ReadDir(e.state); len(entries) > 0 {
			t.Errorf("state root not empty: %d entries", len(entries))
		}
		rc.Close()
	})
	return e
}

func (e *env) create(t *testing.T, id string, args ...string) *librune.Container {
	t.Helper()
	c, err := e.rc.Create(bg, id, &librune.CreateOptions{Config: config(args...), Rootfs: e.rootfs})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVersion(t *testing.T) {
	if librune.ABIVersion() != librune.HeaderABIVersion {
		t.Fatalf("librune ABI %d, header %d", librune.ABIVersion(), librune.HeaderABIVersion)
	}
	if !strings.HasPrefix(librune.Version(), "0.") {
		t.Fatalf("version %q", librune.Version())
	}
}

func TestLifecycle(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	c := e.create(t, "go-exit", "sh", "-c", "exit 3")
	if c.ID() != "go-exit" {
		t.Fatalf("id %q", c.ID())
	}
	st, err := c.State()
	if err != nil || st.Status != "created" || st.Pid <= 0 || st.ID != "go-exit" {
		t.Fatalf("state %+v, %v", st, err)
	}
	if s, err := c.Status(); err != nil || s != librune.StatusCreated {
		t.Fatalf("status %v, %v", s, err)
	}
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	code, err := c.Wait(ctx)
	if err != nil || code != 3 {
		t.Fatalf("wait: %d, %v; want 3", code, err)
	}
	if s, err := c.Status(); err != nil || s != librune.StatusStopped {
		t.Fatalf("status after exit %v, %v", s, err)
	}
	if err := c.Start(bg); !errors.Is(err, librune.ErrInvalidState) {
		t.Fatalf("start of a stopped container: %v", err)
	}
	if err := c.Delete(false); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(false); !errors.Is(err, librune.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	_, err = e.rc.Load("go-exit")
	var re *librune.Error
	if !errors.Is(err, librune.ErrNotFound) || !errors.As(err, &re) || re.Code != librune.CodeNotFound ||
		!strings.Contains(re.Message, "go-exit") {
		t.Fatalf("load after delete: %v", err)
	}
}

func TestExecKillAndCancelledWait(t *testing.T) {
	e := setup(t)
	c := e.create(t, "go-exec", "sleep", "1000")
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	p, err := c.Exec(bg, &librune.ExecOptions{
		Args: []string{"sh", "-c", `test "$FOO" = bar && test "$(id -u)" = 7 && exit 5`},
		Env:  []string{"FOO=bar"},
		User: &librune.User{UID: 7, GID: 7},
		Cwd:  "/tmp",
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(context.Background()); err != nil || code != 5 {
		t.Fatalf("exec: %d, %v; want 5", code, err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a cancelled context: %v", err)
	}
	list, err := e.rc.List()
	if err != nil || len(list) != 1 || list[0].ID != "go-exec" || list[0].Status != "running" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if err := e.rc.Delete("go-exec", false); !errors.Is(err, librune.ErrInvalidState) {
		t.Fatalf("delete of a running container: %v", err)
	}
	if err := c.Kill(syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if code, err := c.Wait(context.Background()); err != nil || code != 128+9 {
		t.Fatalf("wait after SIGKILL: %d, %v", code, err)
	}
	if err := c.Kill(syscall.SIGKILL, false); !errors.Is(err, librune.ErrInvalidState) {
		t.Fatalf("kill of a stopped container: %v", err)
	}
	if err := e.rc.Delete("go-exec", false); err != nil {
		t.Fatal(err)
	}
}

// Containers from 8 goroutines at once, each its own ids.
func TestConcurrentContainers(t *testing.T) {
	e := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 2; round++ {
				if err := runOne(e, g, round); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func runOne(e *env, g, round int) error {
	id := fmt.Sprintf("go-g%d-%d", g, round)
	c, err := e.rc.Create(bg, id, &librune.CreateOptions{Config: config("sleep", "1000"), Rootfs: e.rootfs})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Start(bg); err != nil {
		return err
	}
	p, err := c.Exec(bg, &librune.ExecOptions{Args: []string{"sh", "-c", fmt.Sprintf("exit %d", g)}})
	if err != nil {
		return err
	}
	if code, err := p.Wait(context.Background()); err != nil || code != g {
		return fmt.Errorf("%s: exec exit %d, %v; want %d", id, code, err, g)
	}
	if err := e.rc.Delete(id, true); err != nil {
		return err
	}
	if code, err := c.Wait(context.Background()); err != nil || code != 128+9 {
		return fmt.Errorf("%s: init exit %d, %v after forced delete", id, code, err)
	}
	return nil
}

func TestBadInput(t *testing.T) {
	e := setup(t)
	opts := &librune.CreateOptions{Config: config("true"), Rootfs: e.rootfs}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"empty id", func() error { _, err := e.rc.Create(bg, "", opts); return err }(), librune.ErrInvalidArgument},
		{"id with a slash", func() error { _, err := e.rc.Create(bg, "a/b", opts); return err }(), librune.ErrInvalidArgument},
		{"id with NUL", func() error { _, err := e.rc.Create(bg, "a\x00b", opts); return err }(), librune.ErrInvalidArgument},
		{"id not UTF-8", func() error { _, err := e.rc.Create(bg, "a\xffb", opts); return err }(), librune.ErrInvalidUTF8},
		{"config not JSON", func() error {
			_, err := e.rc.Create(bg, "go-bad", &librune.CreateOptions{Config: []byte("{"), Rootfs: e.rootfs})
			return err
		}(), librune.ErrInvalidSpec},
		{"missing rootfs", func() error {
			_, err := e.rc.Create(bg, "go-bad", &librune.CreateOptions{Config: config("true"), Rootfs: "/no/such/rootfs"})
			return err
		}(), librune.ErrNotFound},
		{"no config", func() error { _, err := e.rc.Create(bg, "go-bad", &librune.CreateOptions{}); return err }(), librune.ErrInvalidArgument},
		{"missing container", e.rc.Delete("go-none", false), librune.ErrNotFound},
		{"missing init binary", e.rc.SetInitBinary("/no/such/rune"), librune.ErrNotFound},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}

	c := e.create(t, "go-closed", "true")
	if err := e.rc.Delete("go-closed", false); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close()
	if _, err := c.Pid(); !errors.Is(err, librune.ErrInvalidHandle) {
		t.Errorf("pid after close: %v", err)
	}
	// The errno travels: waiting for a process that is not our child.
	p := &librune.Process{Pid: 1}
	if _, err := waitFor(p); !errors.Is(err, syscall.ECHILD) || !errors.Is(err, librune.ErrOS) {
		t.Errorf("wait for pid 1: %v", err)
	}
}

func waitFor(p *librune.Process) (int, error) {
	return p.Wait(context.Background())
}

// TestEnclaveContainer runs a container's process in the skeleton enclave runtime (type sim),
// and a second process in the enclave through Exec.
func TestEnclaveContainer(t *testing.T) {
	dir := os.Getenv("RUNE_SKELETON_DIR")
	if dir == "" {
		t.Fatal("RUNE_SKELETON_DIR is not set (make go-test sets it)")
	}
	e := setup(t)
	ctx := context.Background()
	opts := &librune.CreateOptions{
		Config:  config("sleep", "1000"),
		Rootfs:  e.rootfs,
		Enclave: &librune.Enclave{Type: "sim", RuntimePath: filepath.Join(dir, "liberpal-skeleton-v3.so")},
	}
	c, err := e.rc.Create(bg, "go-enclave", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Status(); err != nil || s != librune.StatusPaused {
		t.Fatalf("status after pause %v, %v", s, err)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Exec(bg, &librune.ExecOptions{Args: []string{"sh", "-c", "exit 9"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(ctx); err != nil || code != 9 {
		t.Fatalf("exec in the enclave: %d, %v; want 9", code, err)
	}
	if err := e.rc.Delete("go-enclave", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	bad := &librune.CreateOptions{Config: config("true"), Rootfs: e.rootfs,
		Enclave: &librune.Enclave{Type: "nope", RuntimePath: "/x.so"}}
	if _, err := e.rc.Create(bg, "go-enclave-bad", bad); !errors.Is(err, librune.ErrInvalidSpec) {
		t.Fatalf("unknown enclave type: %v", err)
	}
}

// TestLogger checks that librune's messages reach a Go logger: a container's creation and
// deletion, and a failing poststop hook as a warning.
func TestLogger(t *testing.T) {
	e := setup(t)
	var mu sync.Mutex
	var got []string
	if err := e.rc.SetLogger(func(l librune.LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%d %s", l, msg))
	}); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(config("true")), `"root":`,
		`"hooks": {"poststop": [{"path": "/bin/false"}]}, "root":`, 1)
	c, err := e.rc.Create(bg, "go-log", &librune.CreateOptions{Config: []byte(cfg), Rootfs: e.rootfs})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.rc.Delete("go-log", false); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(got, "\n")
	for _, want := range []string{"created", "deleted", "poststop"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the log:\n%s", want, all)
		}
	}
	warn := fmt.Sprintf("%d ", librune.LogWarn)
	if !strings.Contains(all, warn) {
		t.Errorf("no warning in the log:\n%s", all)
	}
}

// A context done before Create, Start or Exec: ctx.Err(), and nothing is created or run.
func TestCancelledBeforeTheCall(t *testing.T) {
	e := setup(t)
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	opts := &librune.CreateOptions{Config: config("sleep", "1000"), Rootfs: e.rootfs}
	if c, err := e.rc.Create(cancelled, "go-cancelled", opts); !errors.Is(err, context.Canceled) || c != nil {
		t.Fatalf("create with a cancelled context: %v, %v", c, err)
	}
	if list, err := e.rc.List(); err != nil || len(list) != 0 {
		t.Fatalf("list after a cancelled create: %+v, %v", list, err)
	}
	c := e.create(t, "go-cancel-start", "sleep", "1000")
	if err := c.Start(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("start with a cancelled context: %v", err)
	}
	if s, err := c.Status(); err != nil || s != librune.StatusCreated {
		t.Fatalf("status after a cancelled start: %v, %v", s, err)
	}
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Exec(cancelled, &librune.ExecOptions{Args: []string{"true"}}); !errors.Is(err, context.Canceled) || p != nil {
		t.Fatalf("exec with a cancelled context: %v, %v", p, err)
	}
	if err := c.Delete(true); err != nil {
		t.Fatal(err)
	}
	if code, err := c.Wait(bg); err != nil || code != 128+9 {
		t.Fatalf("wait after a forced delete: %d, %v", code, err)
	}
}

// A context cancelled while librune creates a container, and while it execs a process (from the
// logger, which librune calls inside those calls): the container is deleted, the process killed
// and reaped, and each call returns ctx.Err().
func TestCancelledDuringTheCall(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	var mu sync.Mutex
	var execPid int
	if err := e.rc.SetLogger(func(_ librune.LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(msg, "create go-cancel-create:") {
			cancel()
		}
		if _, err := fmt.Sscanf(msg, "container go-cancel-exec: exec'd process %d", &execPid); err == nil {
			cancel()
		}
	}); err != nil {
		t.Fatal(err)
	}
	opts := &librune.CreateOptions{Config: config("sleep", "1000"), Rootfs: e.rootfs}
	if c, err := e.rc.Create(ctx, "go-cancel-create", opts); !errors.Is(err, context.Canceled) || c != nil {
		t.Fatalf("create cancelled during the call: %v, %v", c, err)
	}
	if _, err := e.rc.Load("go-cancel-create"); !errors.Is(err, librune.ErrNotFound) {
		t.Fatalf("the container of a cancelled create is left: %v", err)
	}

	c := e.create(t, "go-cancel-exec", "sleep", "1000")
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(bg)
	defer cancel()
	p, err := c.Exec(ctx, &librune.ExecOptions{Args: []string{"sleep", "1000"}})
	if !errors.Is(err, context.Canceled) || p != nil {
		t.Fatalf("exec cancelled during the call: %v, %v", p, err)
	}
	mu.Lock()
	pid := execPid
	mu.Unlock()
	if pid <= 0 {
		t.Fatal("no exec'd pid in the log")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("the process of a cancelled exec (pid %d) is still there: %v", pid, err)
	}
	if err := c.Delete(true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(bg); err != nil {
		t.Fatal(err)
	}
}

// A Wait whose context ends returns ctx.Err() promptly and leaves no goroutine behind (none
// stays blocked in librune), for a container's init and for an exec'd process; a later Wait
// still gets the exit code.
func TestWaitCancelledLeavesNothingBehind(t *testing.T) {
	e := setup(t)
	c := e.create(t, "go-wait-cancel", "sleep", "1000")
	if err := c.Start(bg); err != nil {
		t.Fatal(err)
	}
	p, err := c.Exec(bg, &librune.ExecOptions{Args: []string{"sleep", "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	waits := map[string]func(context.Context) (int, error){"container": c.Wait, "process": p.Wait}
	for name, wait := range waits {
		ctx, cancel := context.WithCancel(bg)
		time.AfterFunc(100*time.Millisecond, cancel)
		t0 := time.Now()
		if _, err := wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: cancelled wait: %v", name, err)
		}
		if d := time.Since(t0); d < 100*time.Millisecond || d > 100*time.Millisecond+500*time.Millisecond {
			t.Errorf("%s: the cancelled wait returned after %v, want ~100ms", name, d)
		}
		ctx, cancel = context.WithTimeout(bg, 30*time.Millisecond)
		if _, err := wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: wait past its deadline: %v", name, err)
		}
		cancel()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after the cancelled waits, %d before", n, before)
	}

	if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(bg); err != nil || code != 128+9 {
		t.Fatalf("process wait after the cancelled ones: %d, %v", code, err)
	}
	if err := c.Kill(syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if code, err := c.Wait(bg); err != nil || code != 128+9 {
		t.Fatalf("container wait after the cancelled ones: %d, %v", code, err)
	}
	if err := c.Delete(false); err != nil {
		t.Fatal(err)
	}
}
