package rune_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	rune "rune.example/go/rune"
)

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
	rc     *rune.Context
	rootfs string
	state  string
}

// setup makes a context on a private state root and a busybox rootfs; at the end it checks
// that no container is left and frees the context.
func setup(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{rootfs: makeRootfs(t, dir), state: filepath.Join(dir, "state")}
	rc, err := rune.NewContext(e.state)
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

func (e *env) create(t *testing.T, id string, args ...string) *rune.Container {
	t.Helper()
	c, err := e.rc.Create(id, &rune.CreateOptions{Config: config(args...), Rootfs: e.rootfs})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVersion(t *testing.T) {
	if rune.ABIVersion() != rune.HeaderABIVersion {
		t.Fatalf("librune ABI %d, header %d", rune.ABIVersion(), rune.HeaderABIVersion)
	}
	if !strings.HasPrefix(rune.Version(), "0.") {
		t.Fatalf("version %q", rune.Version())
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
	if s, err := c.Status(); err != nil || s != rune.StatusCreated {
		t.Fatalf("status %v, %v", s, err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	code, err := c.Wait(ctx)
	if err != nil || code != 3 {
		t.Fatalf("wait: %d, %v; want 3", code, err)
	}
	if s, err := c.Status(); err != nil || s != rune.StatusStopped {
		t.Fatalf("status after exit %v, %v", s, err)
	}
	if err := c.Start(); !errors.Is(err, rune.ErrInvalidState) {
		t.Fatalf("start of a stopped container: %v", err)
	}
	if err := c.Delete(false); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(false); !errors.Is(err, rune.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	_, err = e.rc.Load("go-exit")
	var re *rune.Error
	if !errors.Is(err, rune.ErrNotFound) || !errors.As(err, &re) || re.Code != rune.CodeNotFound ||
		!strings.Contains(re.Message, "go-exit") {
		t.Fatalf("load after delete: %v", err)
	}
}

func TestExecKillAndCancelledWait(t *testing.T) {
	e := setup(t)
	c := e.create(t, "go-exec", "sleep", "1000")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Exec(&rune.ExecOptions{
		Args: []string{"sh", "-c", `test "$FOO" = bar && test "$(id -u)" = 7 && exit 5`},
		Env:  []string{"FOO=bar"},
		User: &rune.User{UID: 7, GID: 7},
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
	if err := e.rc.Delete("go-exec", false); !errors.Is(err, rune.ErrInvalidState) {
		t.Fatalf("delete of a running container: %v", err)
	}
	if err := c.Kill(syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if code, err := c.Wait(context.Background()); err != nil || code != 128+9 {
		t.Fatalf("wait after SIGKILL: %d, %v", code, err)
	}
	if err := c.Kill(syscall.SIGKILL, false); !errors.Is(err, rune.ErrInvalidState) {
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
	c, err := e.rc.Create(id, &rune.CreateOptions{Config: config("sleep", "1000"), Rootfs: e.rootfs})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		return err
	}
	p, err := c.Exec(&rune.ExecOptions{Args: []string{"sh", "-c", fmt.Sprintf("exit %d", g)}})
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
	opts := &rune.CreateOptions{Config: config("true"), Rootfs: e.rootfs}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"empty id", func() error { _, err := e.rc.Create("", opts); return err }(), rune.ErrInvalidArgument},
		{"id with a slash", func() error { _, err := e.rc.Create("a/b", opts); return err }(), rune.ErrInvalidArgument},
		{"id with NUL", func() error { _, err := e.rc.Create("a\x00b", opts); return err }(), rune.ErrInvalidArgument},
		{"id not UTF-8", func() error { _, err := e.rc.Create("a\xffb", opts); return err }(), rune.ErrInvalidUTF8},
		{"config not JSON", func() error {
			_, err := e.rc.Create("go-bad", &rune.CreateOptions{Config: []byte("{"), Rootfs: e.rootfs})
			return err
		}(), rune.ErrInvalidSpec},
		{"missing rootfs", func() error {
			_, err := e.rc.Create("go-bad", &rune.CreateOptions{Config: config("true"), Rootfs: "/no/such/rootfs"})
			return err
		}(), rune.ErrNotFound},
		{"no config", func() error { _, err := e.rc.Create("go-bad", &rune.CreateOptions{}); return err }(), rune.ErrInvalidArgument},
		{"missing container", e.rc.Delete("go-none", false), rune.ErrNotFound},
		{"missing init binary", e.rc.SetInitBinary("/no/such/rune"), rune.ErrNotFound},
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
	if _, err := c.Pid(); !errors.Is(err, rune.ErrInvalidHandle) {
		t.Errorf("pid after close: %v", err)
	}
	// The errno travels: waiting for a process that is not our child.
	p := &rune.Process{Pid: 1}
	if _, err := waitFor(p); !errors.Is(err, syscall.ECHILD) || !errors.Is(err, rune.ErrOS) {
		t.Errorf("wait for pid 1: %v", err)
	}
}

func waitFor(p *rune.Process) (int, error) {
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
	opts := &rune.CreateOptions{
		Config:  config("sleep", "1000"),
		Rootfs:  e.rootfs,
		Enclave: &rune.Enclave{Type: "sim", RuntimePath: filepath.Join(dir, "liberpal-skeleton-v3.so")},
	}
	c, err := e.rc.Create("go-enclave", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Status(); err != nil || s != rune.StatusPaused {
		t.Fatalf("status after pause %v, %v", s, err)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Exec(&rune.ExecOptions{Args: []string{"sh", "-c", "exit 9"}})
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
	bad := &rune.CreateOptions{Config: config("true"), Rootfs: e.rootfs,
		Enclave: &rune.Enclave{Type: "nope", RuntimePath: "/x.so"}}
	if _, err := e.rc.Create("go-enclave-bad", bad); !errors.Is(err, rune.ErrInvalidSpec) {
		t.Fatalf("unknown enclave type: %v", err)
	}
}

// TestLogger checks that librune's messages reach a Go logger: a container's creation and
// deletion, and a failing poststop hook as a warning.
func TestLogger(t *testing.T) {
	e := setup(t)
	var mu sync.Mutex
	var got []string
	if err := e.rc.SetLogger(func(l rune.LogLevel, msg string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%d %s", l, msg))
	}); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(config("true")), `"root":`,
		`"hooks": {"poststop": [{"path": "/bin/false"}]}, "root":`, 1)
	c, err := e.rc.Create("go-log", &rune.CreateOptions{Config: []byte(cfg), Rootfs: e.rootfs})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(); err != nil {
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
	warn := fmt.Sprintf("%d ", rune.LogWarn)
	if !strings.Contains(all, warn) {
		t.Errorf("no warning in the log:\n%s", all)
	}
}
