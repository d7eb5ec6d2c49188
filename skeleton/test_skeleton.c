/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_skeleton: loads each skeleton library given on the command line with
 * dlopen(), as rune does, and checks its behaviour through the PAL API.
 *
 *   test_skeleton liberpal-skeleton-v1.so liberpal-skeleton-v2.so ...
 *
 * The version of each library comes from its pal_get_version (absent: 1).
 * Prints one line per failed check and a final "N passed, M failed";
 * exits 1 if anything failed. -v prints passed checks too.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAL_NO_PROTOTYPES
#include "pal.h"

#define REPORT_SIZE 432
#define REPORT_MAGIC "SKELETON-SIMULATED-REPORT v1"

static int passed, failed, verbose;
static const char *self; /* argv[0], to re-execute ourselves */
static char ctx[64]; /* "v2", for messages */

static void check(int ok, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		passed++;
	else
		failed++;
	if (ok && !verbose)
		return;
	printf("%s [%s] line %d: ", ok ? "ok  " : "FAIL", ctx, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}
#define CHECK(cond, ...) check(!!(cond), __LINE__, __VA_ARGS__)

struct pal {
	void *h;
	int version;
	pal_get_version_fn get_version;
	pal_init_v1_fn init_v1; /* v1, v2 */
	pal_init_v3_fn init_v3;
	pal_create_process_v2_fn create_process;
	pal_exec_v1_fn exec_v1;
	pal_exec_v2_fn exec_v2;
	pal_kill_v2_fn kill;
	pal_destroy_v1_fn destroy;
	pal_get_local_report_v3_fn get_local_report;
};

/* ---- helpers ---- */

static int pal_init_with(struct pal *P, const char *args, const char *level)
{
	pal_attr_v3_t a3;

	memset(&a3, 0, sizeof(a3));
	a3.attr_v1.args = args;
	a3.attr_v1.log_level = level;
	a3.fd = PAL_ATTR_V3_NO_ENCLAVE_FD;
	a3.addr = 0;
	errno = 0;
	if (P->version >= 3)
		return P->init_v3(&a3);
	return P->init_v1(&a3.attr_v1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		buf[0] = '\0';
		return -1;
	}
	read_all(fd, buf, size);
	close(fd);
	return 0;
}

/* Redirect our stderr into a file while a call runs. */
static int saved_stderr = -1;
static char capture_path[] = "/tmp/test_skeleton_stderr_XXXXXX";

static void capture_begin(void)
{
	int fd;

	strcpy(capture_path, "/tmp/test_skeleton_stderr_XXXXXX");
	fd = mkstemp(capture_path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void capture_end(char *buf, size_t size)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	read_file(capture_path, buf, size);
	unlink(capture_path);
}

struct run {
	const char *path;     /* default argv[0] */
	char *const *argv;
	char *const *env;     /* v2+; v1 inherits ours */
	const char *input;    /* written to the payload's stdin */
	int ret, err, exit_value, pid;
	int stdio[3];         /* the fds that were passed */
	char out[4096], errout[4096];
};

/* create_process + exec (v2+) or pal_exec (v1), stdio through pipes. */
static void run(struct pal *P, struct run *r)
{
	int in[2], out[2], err[2];
	pal_stdio_fds stdio;

	r->ret = r->err = 0;
	r->exit_value = -1;
	r->pid = -1;
	r->out[0] = r->errout[0] = '\0';
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC)) {
		perror("pipe2");
		exit(2);
	}
	stdio.stdin = in[0];
	stdio.stdout = out[1];
	stdio.stderr = err[1];
	r->stdio[0] = in[0];
	r->stdio[1] = out[1];
	r->stdio[2] = err[1];

	if (P->version >= 2) {
		pal_create_process_args ca;
		pal_exec_args ea;

		ca.path = (char *)(r->path ? r->path : r->argv[0]);
		ca.argv = (char **)r->argv;
		ca.env = (char **)r->env;
		ca.stdio = &stdio;
		ca.pid = &r->pid;
		errno = 0;
		r->ret = P->create_process(&ca);
		r->err = errno;
		close(in[0]);
		close(out[1]);
		close(err[1]);
		if (r->input)
			(void)!write(in[1], r->input, strlen(r->input));
		close(in[1]);
		if (r->ret == 0) {
			ea.pid = r->pid;
			ea.exit_value = &r->exit_value;
			errno = 0;
			r->ret = P->exec_v2(&ea);
			r->err = errno;
			if (r->ret != 0) {
				/* the process still holds the pipes' write
				 * ends until pal_destroy: don't read */
				close(out[0]);
				close(err[0]);
				return;
			}
		}
	} else {
		if (r->input)
			(void)!write(in[1], r->input, strlen(r->input));
		close(in[1]);
		errno = 0;
		r->ret = P->exec_v1((char *)(r->path ? r->path : r->argv[0]),
				    (char **)r->argv, &stdio,
				    &r->exit_value);
		r->err = errno;
		close(in[0]);
		close(out[1]);
		close(err[1]);
	}
	read_all(out[0], r->out, sizeof(r->out));
	read_all(err[0], r->errout, sizeof(r->errout));
	close(out[0]);
	close(err[0]);
}

static void *run_thread(void *arg)
{
	void **a = arg;

	run(a[0], a[1]);
	return NULL;
}

/* Creates argv[0..] without running it (v2+). */
static int create(struct pal *P, char *const argv[], int *pid)
{
	pal_create_process_args ca;
	char *env[] = { NULL };

	ca.path = argv[0];
	ca.argv = (char **)argv;
	ca.env = env;
	ca.stdio = NULL; /* inherit our 0/1/2 */
	ca.pid = pid;
	return P->create_process(&ca);
}

struct exec_arg {
	struct pal *P;
	int pid, ret, exit_value;
};

static void *exec_thread(void *arg)
{
	struct exec_arg *e = arg;
	pal_exec_args ea = { e->pid, &e->exit_value };

	e->ret = e->P->exec_v2(&ea);
	return NULL;
}

static int process_exists(int pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* ---- tests ---- */

static void test_layout(void)
{
	snprintf(ctx, sizeof(ctx), "pal.h");
#if defined(__x86_64__) || defined(__aarch64__)
	CHECK(sizeof(pal_attr_t) == 16, "sizeof(pal_attr_t) == 16");
	CHECK(sizeof(pal_attr_v3_t) == 32 &&
		      offsetof(pal_attr_v3_t, fd) == 16 &&
		      offsetof(pal_attr_v3_t, addr) == 24,
	      "pal_attr_v3_t layout");
	CHECK(sizeof(pal_stdio_fds) == 12, "sizeof(pal_stdio_fds) == 12");
	CHECK(sizeof(pal_create_process_args) == 40 &&
		      offsetof(pal_create_process_args, stdio) == 24 &&
		      offsetof(pal_create_process_args, pid) == 32,
	      "pal_create_process_args layout");
	CHECK(sizeof(pal_exec_args) == 16 &&
		      offsetof(pal_exec_args, exit_value) == 8,
	      "pal_exec_args layout");
#endif
	CHECK(PAL_API_VERSION_MAX == 3 && PAL_VERSION == 3,
	      "PAL_API_VERSION_MAX and default PAL_VERSION are 3");
}

static int load(const char *path, struct pal *P)
{
	memset(P, 0, sizeof(*P));
	P->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CHECK(P->h != NULL, "dlopen %s: %s", path, P->h ? "" : dlerror());
	if (!P->h)
		return -1;
	*(void **)&P->get_version = dlsym(P->h, "pal_get_version");
	P->version = P->get_version ? P->get_version() : 1;
	snprintf(ctx, sizeof(ctx), "v%d", P->version);
	*(void **)&P->init_v1 = dlsym(P->h, "pal_init");
	*(void **)&P->init_v3 = dlsym(P->h, "pal_init");
	*(void **)&P->create_process = dlsym(P->h, "pal_create_process");
	*(void **)&P->exec_v1 = dlsym(P->h, "pal_exec");
	*(void **)&P->exec_v2 = dlsym(P->h, "pal_exec");
	*(void **)&P->kill = dlsym(P->h, "pal_kill");
	*(void **)&P->destroy = dlsym(P->h, "pal_destroy");
	*(void **)&P->get_local_report = dlsym(P->h, "pal_get_local_report");
	return 0;
}

static void test_symbols(struct pal *P, const char *path)
{
	int v = P->version;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char expect[64];

	snprintf(expect, sizeof(expect), "liberpal-skeleton-v%d.so", v);
	CHECK(!strcmp(base, expect), "%s reports version %d", base, v);
	CHECK(v >= 1 && v <= PAL_API_VERSION_MAX, "version in range");
	CHECK((v == 1) == (P->get_version == NULL),
	      "pal_get_version exported iff v2+");
	CHECK(P->init_v1 && P->exec_v1 && P->destroy,
	      "pal_init, pal_exec, pal_destroy exported");
	CHECK((v >= 2) == (P->create_process != NULL && P->kill != NULL),
	      "pal_create_process and pal_kill exported iff v2+");
	CHECK((v >= 3) == (P->get_local_report != NULL),
	      "pal_get_local_report exported iff v3");
}

static void test_uninitialized(struct pal *P)
{
	int r;

	errno = 0;
	r = P->destroy();
	CHECK(r == -EINVAL, "pal_destroy before pal_init: %d", r);
	if (P->version >= 2) {
		int pid = 0, ev;
		pal_exec_args ea = { 1, &ev };
		char *argv[] = { "/bin/true", NULL };

		r = create(P, argv, &pid);
		CHECK(r == -EINVAL, "pal_create_process before pal_init: %d", r);
		r = P->exec_v2(&ea);
		CHECK(r == -EINVAL, "pal_exec before pal_init: %d", r);
		r = P->kill(-1, SIGTERM);
		CHECK(r == -EINVAL, "pal_kill before pal_init: %d", r);
	}
}

static void test_basic(struct pal *P)
{
	char *echo[] = { "/bin/echo", "hello", "world", NULL };
	char *exit3[] = { "/bin/sh", "-c", "exit 3", NULL };
	char *kill9[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
	char *cat[] = { "/bin/cat", NULL };
	char *errsh[] = { "/bin/sh", "-c", "echo oops >&2; exit 1", NULL };
	char *noexec[] = { "/nonexistent/prog", "x", NULL };
	char *envp[] = { "FOO=bar", "X=1", NULL };
	char *envcmd[] = { "/usr/bin/env", NULL };
	char *envsh[] = { "/bin/sh", "-c", "echo \"$SKEL_TEST_ENV\"", NULL };
	static struct run r;
	char err[4096];
	int ret;

	ret = pal_init_with(P, "", "info");
	CHECK(ret == 0, "pal_init: %d", ret);

	capture_begin();
	ret = pal_init_with(P, "", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == -EBUSY, "second pal_init: %d", ret);
	CHECK(strstr(err, "already initialized") != NULL,
	      "second pal_init says so: '%s'", err);

	capture_begin();
	memset(&r, 0, sizeof(r));
	r.argv = echo;
	run(P, &r);
	capture_end(err, sizeof(err));
	CHECK(r.ret == 0 && r.exit_value == 0, "echo: ret %d exit %d",
	      r.ret, r.exit_value);
	CHECK(!strcmp(r.out, "hello world\n"), "echo stdout: '%s'", r.out);
	CHECK(err[0] == '\0', "nothing on stderr at info: '%s'", err);

	memset(&r, 0, sizeof(r));
	r.argv = exit3;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 3, "exit 3: ret %d exit %d",
	      r.ret, r.exit_value);

	memset(&r, 0, sizeof(r));
	r.argv = kill9;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 137, "kill -9 $$: ret %d exit %d",
	      r.ret, r.exit_value);

	memset(&r, 0, sizeof(r));
	r.argv = cat;
	r.input = "some input\n";
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 0 && !strcmp(r.out, "some input\n"),
	      "cat stdin->stdout: exit %d '%s'", r.exit_value, r.out);

	memset(&r, 0, sizeof(r));
	r.argv = errsh;
	run(P, &r);
	CHECK(r.exit_value == 1 && !strcmp(r.errout, "oops\n") && !r.out[0],
	      "stderr: exit %d '%s'", r.exit_value, r.errout);

	memset(&r, 0, sizeof(r));
	r.argv = noexec;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 127,
	      "missing program: ret %d exit %d", r.ret, r.exit_value);
	CHECK(!strcmp(r.errout, "skeleton: cannot execute '/nonexistent/prog': "
				"ENOENT (No such file or directory)\n"),
	      "missing program message: '%s'", r.errout);

	memset(&r, 0, sizeof(r));
	if (P->version >= 2) {
		r.argv = envcmd;
		r.env = envp;
		run(P, &r);
		CHECK(r.exit_value == 0 && !strcmp(r.out, "FOO=bar\nX=1\n"),
		      "env passed exactly: '%s'", r.out);
	} else {
		setenv("SKEL_TEST_ENV", "inherited", 1);
		r.argv = envsh;
		run(P, &r);
		unsetenv("SKEL_TEST_ENV");
		CHECK(r.exit_value == 0 && !strcmp(r.out, "inherited\n"),
		      "v1 inherits the environment: '%s'", r.out);
	}

	ret = P->destroy();
	CHECK(ret == 0, "pal_destroy: %d", ret);
	ret = P->destroy();
	CHECK(ret == -EINVAL, "pal_destroy after pal_destroy: %d", ret);
	memset(&r, 0, sizeof(r));
	r.argv = echo;
	run(P, &r);
	CHECK(r.ret == -EINVAL, "run after pal_destroy: %d", r.ret);
	if (P->version >= 2) {
		ret = P->kill(0, SIGTERM);
		CHECK(ret == -EINVAL, "pal_kill after pal_destroy: %d", ret);
	}
}

static void test_kill(struct pal *P)
{
	char *sleep100[] = { "/bin/sleep", "100", NULL };
	struct exec_arg a = { P, 0, -1, -1 }, b = { P, 0, -1, -1 };
	pthread_t t;
	int ret;

	if (P->version < 2)
		return;
	ret = pal_init_with(P, NULL, NULL);
	CHECK(ret == 0, "pal_init(NULL args, NULL log_level): %d", ret);

	/* a running process */
	ret = create(P, sleep100, &a.pid);
	CHECK(ret == 0 && a.pid > 0, "create sleep 100: %d pid %d", ret, a.pid);
	pthread_create(&t, NULL, exec_thread, &a);
	usleep(200 * 1000);
	ret = P->kill(a.pid, SIGTERM);
	CHECK(ret == 0, "pal_kill(pid, SIGTERM): %d", ret);
	pthread_join(t, NULL);
	CHECK(a.ret == 0 && a.exit_value == 128 + SIGTERM,
	      "sleep killed by SIGTERM: ret %d exit %d", a.ret, a.exit_value);

	ret = P->kill(a.pid, SIGTERM);
	CHECK(ret == -ESRCH, "pal_kill(ended pid): %d", ret);
	ret = P->kill(0, SIGTERM);
	CHECK(ret == -ESRCH, "pal_kill(0) with no process: %d", ret);
	ret = P->kill(-1, SIGTERM);
	CHECK(ret == 0, "pal_kill(-1) with no process: %d", ret);

	/* 0 is the most recent one; a created process can be signalled */
	a.exit_value = b.exit_value = -1;
	ret = create(P, sleep100, &a.pid) | create(P, sleep100, &b.pid);
	CHECK(ret == 0, "create two sleeps: %d", ret);
	ret = P->kill(0, SIGKILL);
	CHECK(ret == 0, "pal_kill(0, SIGKILL): %d", ret);
	exec_thread(&b);
	CHECK(b.ret == 0 && b.exit_value == 137,
	      "pal_kill(0) hit the newest process: ret %d exit %d", b.ret,
	      b.exit_value);
	CHECK(process_exists(a.pid), "older process untouched");
	pthread_create(&t, NULL, exec_thread, &a);
	usleep(200 * 1000);
	ret = P->kill(-1, SIGKILL);
	CHECK(ret == 0, "pal_kill(-1, SIGKILL): %d", ret);
	pthread_join(t, NULL);
	CHECK(a.ret == 0 && a.exit_value == 137,
	      "pal_kill(-1) hit it: ret %d exit %d", a.ret, a.exit_value);

	/* pal_exec twice, unknown pid */
	{
		int ev = -1;
		pal_exec_args ea = { a.pid, &ev };

		ret = P->exec_v2(&ea);
		CHECK(ret == -ESRCH, "pal_exec(ended pid): %d", ret);
	}

	/* pal_destroy ends a running and a created-only process */
	a.exit_value = -1;
	ret = create(P, sleep100, &a.pid) | create(P, sleep100, &b.pid);
	CHECK(ret == 0, "create two sleeps: %d", ret);
	pthread_create(&t, NULL, exec_thread, &a);
	usleep(200 * 1000);
	ret = P->destroy();
	CHECK(ret == 0, "pal_destroy with processes left: %d", ret);
	pthread_join(t, NULL);
	CHECK(a.ret == 0 && a.exit_value == 137,
	      "pal_exec returns when pal_destroy kills: ret %d exit %d",
	      a.ret, a.exit_value);
	CHECK(!process_exists(a.pid) && !process_exists(b.pid),
	      "pal_destroy reaped both");
}

static void test_concurrent(struct pal *P)
{
	char *s1[] = { "/bin/sh", "-c", "sleep 1.5; echo one; exit 5", NULL };
	char *s2[] = { "/bin/sh", "-c", "sleep 1.5; echo two; exit 6", NULL };
	char *env[] = { NULL };
	static struct run r1, r2;
	void *a1[2] = { P, &r1 }, *a2[2] = { P, &r2 };
	pthread_t t1, t2;
	double t0, dt;
	int ret;

	ret = pal_init_with(P, "", "info");
	CHECK(ret == 0, "pal_init: %d", ret);
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	r1.argv = s1;
	r2.argv = s2;
	r1.env = r2.env = env;
	t0 = now();
	pthread_create(&t1, NULL, run_thread, a1);
	pthread_create(&t2, NULL, run_thread, a2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	dt = now() - t0;
	CHECK(r1.ret == 0 && r1.exit_value == 5 && !strcmp(r1.out, "one\n"),
	      "thread 1: ret %d exit %d '%s'", r1.ret, r1.exit_value, r1.out);
	CHECK(r2.ret == 0 && r2.exit_value == 6 && !strcmp(r2.out, "two\n"),
	      "thread 2: ret %d exit %d '%s'", r2.ret, r2.exit_value, r2.out);
	CHECK(dt < 2.8, "the two ran concurrently: %.2fs for 2 x 1.5s", dt);
	ret = P->destroy();
	CHECK(ret == 0, "pal_destroy: %d", ret);
}

/* Call `call` with fail=call (and errno-style if asked); check it fails. */
static void test_fail_one(struct pal *P, const char *call, int errno_style)
{
	char args[128], err[4096], expect[160];
	char *true_argv[] = { "/bin/true", NULL };
	int ret, e, inited = 0;

	snprintf(args, sizeof(args), "fail=%s%s", call,
		 errno_style ? " errno-style" : "");
	capture_begin();
	ret = pal_init_with(P, args, "info");
	e = errno;
	if (strcmp(call, "pal_init")) {
		inited = ret == 0;
		CHECK(ret == 0, "pal_init(%s): %d", args, ret);
		errno = 0;
		if (!strcmp(call, "pal_create_process")) {
			int pid = 0;

			ret = create(P, true_argv, &pid);
		} else if (!strcmp(call, "pal_exec")) {
			static struct run r;

			memset(&r, 0, sizeof(r));
			r.argv = true_argv;
			run(P, &r);
			ret = r.ret;
			errno = r.err;
		} else if (!strcmp(call, "pal_kill")) {
			ret = P->kill(-1, SIGTERM);
		} else if (!strcmp(call, "pal_destroy")) {
			ret = P->destroy();
			inited = 0;
		} else if (!strcmp(call, "pal_get_local_report")) {
			char rep[REPORT_SIZE];
			int len = sizeof(rep);

			ret = P->get_local_report(NULL, 0, rep, &len);
		}
		e = errno;
	}
	if (inited)
		P->destroy();
	capture_end(err, sizeof(err));
	if (errno_style)
		CHECK(ret == -1 && e == EINVAL, "%s with %s: ret %d errno %d",
		      call, args, ret, e);
	else
		CHECK(ret == -EINVAL, "%s with %s: ret %d", call, args, ret);
	snprintf(expect, sizeof(expect),
		 "skeleton: %s: failing as asked (fail=%s)\n", call, call);
	CHECK(strstr(err, expect) != NULL, "%s message: '%s'", call, err);

	if (!strcmp(call, "pal_destroy")) {
		/* torn down anyway; later calls fail in the same style */
		errno = 0;
		ret = P->destroy();
		e = errno;
		CHECK(errno_style ? (ret == -1 && e == EINVAL) : ret == -EINVAL,
		      "pal_destroy after failed pal_destroy: %d errno %d", ret, e);
	}
}

static void test_fail(struct pal *P)
{
	static const char *const calls[] = {
		"pal_init", "pal_create_process", "pal_exec", "pal_kill",
		"pal_destroy", "pal_get_local_report",
	};
	char err[4096];
	int ret;

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		if (P->version < 2 && (!strcmp(calls[i], "pal_create_process") ||
				       !strcmp(calls[i], "pal_kill")))
			continue;
		if (P->version < 3 && !strcmp(calls[i], "pal_get_local_report"))
			continue;
		test_fail_one(P, calls[i], 0);
		test_fail_one(P, calls[i], 1);
	}

	capture_begin();
	ret = pal_init_with(P, "bogus=1  fail=nope", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == 0, "pal_init with unknown options: %d", ret);
	CHECK(strstr(err, "skeleton: pal_init: ignoring unknown option 'bogus=1'\n") &&
		      strstr(err, "unknown call 'nope'"),
	      "unknown options warned about: '%s'", err);
	P->destroy();

	capture_begin();
	ret = pal_init_with(P, "trace=/nonexistent/dir/trace", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == -ENOENT && strstr(err, "cannot open trace file"),
	      "unopenable trace file: %d '%s'", ret, err);

	capture_begin();
	ret = pal_init_with(P, "", "debug");
	P->destroy();
	capture_end(err, sizeof(err));
	CHECK(ret == 0 && strstr(err, "skeleton: pal_init args=\"\" log_level=debug") &&
		      strstr(err, "skeleton: pal_destroy\n"),
	      "log_level=debug shows the calls: '%s'", err);

	capture_begin();
	ret = pal_init_with(P, "", "bogus");
	P->destroy();
	capture_end(err, sizeof(err));
	CHECK(ret == 0 && strstr(err, "unknown log level 'bogus'"),
	      "unknown log level warned about: '%s'", err);
}

/*
 * crash=CALL: runs in a fresh process (this program re-executed with
 * --crash-child), so that it is not a forked copy of this one (cleaner
 * under valgrind, which does not follow the exec).
 */
static int crash_child(const char *lib, const char *call)
{
	struct pal P;
	char args[64];
	int devnull = open("/dev/null", O_WRONLY);

	dup2(devnull, STDERR_FILENO);
	if (load(lib, &P) < 0)
		return 3;
	snprintf(args, sizeof(args), "crash=%s", call);
	if (pal_init_with(&P, args, "info") != 0)
		return 4;
	P.destroy();
	return 5;
}

static void test_crash(const char *lib)
{
	static const char *const calls[] = { "pal_init", "pal_destroy" };

	for (int i = 0; i < 2; i++) {
		int status = 0;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			execl(self, "test_skeleton", "--crash-child",
			      lib, calls[i], (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		      "crash=%s raises SIGSEGV: status 0x%x", calls[i], status);
	}
}

static void test_trace(struct pal *P)
{
	char path[] = "/tmp/test_skeleton_trace_XXXXXX";
	char *echo[] = { "echo", "hi", NULL };
	char *env[] = { NULL };
	char got[8192], expect[8192], line[512], err[4096];
	static struct run r;
	size_t len = 0;
	int fd, ret, pid = 0;
	char args[128];

	fd = mkstemp(path);
	close(fd);
	snprintf(args, sizeof(args), "trace=%s", path);
#define EXPECT(...)                                                       \
	do {                                                              \
		snprintf(line, sizeof(line), __VA_ARGS__);                \
		len += (size_t)snprintf(expect + len, sizeof(expect) - len, \
					"%s\n", line);                    \
	} while (0)

	ret = pal_init_with(P, args, "info");
	CHECK(ret == 0, "pal_init(%s): %d", args, ret);
	if (P->version >= 3)
		EXPECT("pal_init args=\"%s\" log_level=info fd=-1 addr=0x0", args);
	else
		EXPECT("pal_init args=\"%s\" log_level=info", args);

	memset(&r, 0, sizeof(r));
	r.path = "/bin/echo";
	r.argv = echo;
	r.env = env;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 0, "echo hi: %d %d", r.ret,
	      r.exit_value);
	if (P->version >= 2) {
		pid = r.pid;
		EXPECT("pal_create_process path=/bin/echo argv=[echo,hi] stdio=%d,%d,%d -> pid=%d",
		       r.stdio[0], r.stdio[1], r.stdio[2], pid);
		EXPECT("pal_exec pid=%d -> exit=0", pid);
		ret = P->kill(pid, SIGTERM);
		EXPECT("pal_kill pid=%d sig=15 -> error=ESRCH", pid);
		{
			int ev;
			pal_exec_args ea = { pid, &ev };

			P->exec_v2(&ea);
			EXPECT("pal_exec pid=%d -> error=ESRCH", pid);
		}
	} else {
		EXPECT("pal_exec path=/bin/echo argv=[echo,hi] stdio=%d,%d,%d -> exit=0",
		       r.stdio[0], r.stdio[1], r.stdio[2]);
	}
	if (P->version >= 3) {
		char rep[REPORT_SIZE];
		int rl = sizeof(rep);

		P->get_local_report(NULL, 0, rep, &rl);
		EXPECT("pal_get_local_report target_info_len=0 report_len=432 -> report_len=432");
	}
	ret = P->destroy();
	EXPECT("pal_destroy");

	/* a second instance appends to the same file */
	snprintf(args, sizeof(args), "trace=%s fail=pal_init", path);
	capture_begin();
	pal_init_with(P, args, "info");
	capture_end(err, sizeof(err));
	if (P->version >= 3)
		EXPECT("pal_init args=\"%s\" log_level=info fd=-1 addr=0x0 -> error=EINVAL", args);
	else
		EXPECT("pal_init args=\"%s\" log_level=info -> error=EINVAL", args);
#undef EXPECT

	read_file(path, got, sizeof(got));
	CHECK(!strcmp(got, expect), "trace file content:\n--- got\n%s--- expected\n%s---",
	      got, expect);
	unlink(path);
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void test_report(struct pal *P)
{
	unsigned char ti[512], rep[1024], zero[360];
	int len, ret;
	uint64_t h, got = 0;
	uint32_t tl = 0, ver = 0;

	if (P->version < 3)
		return;
	for (size_t i = 0; i < sizeof(ti); i++)
		ti[i] = (unsigned char)(i * 7 + 1);
	memset(zero, 0, sizeof(zero));
	ret = pal_init_with(P, "", "info");
	CHECK(ret == 0, "pal_init: %d", ret);

	len = sizeof(rep);
	memset(rep, 0xee, sizeof(rep));
	ret = P->get_local_report(ti, sizeof(ti), rep, &len);
	CHECK(ret == 0 && len == REPORT_SIZE, "report: ret %d len %d", ret, len);
	CHECK(!memcmp(rep, REPORT_MAGIC, strlen(REPORT_MAGIC)) &&
		      !memcmp(rep + strlen(REPORT_MAGIC), "\0\0\0\0", 4),
	      "report starts with the magic");
	for (int i = 0; i < 4; i++) {
		tl |= (uint32_t)rep[32 + i] << (8 * i);
		ver |= (uint32_t)rep[36 + i] << (8 * i);
	}
	for (int i = 0; i < 8; i++)
		got |= (uint64_t)rep[40 + i] << (8 * i);
	h = fnv1a(fnv1a(0xcbf29ce484222325ull, (const unsigned char *)"\0", 1),
		  ti, sizeof(ti));
	CHECK(tl == 512 && ver == 3, "report target_info_len %u version %u",
	      tl, ver);
	CHECK(got == h, "report digest lane 0");
	CHECK(!memcmp(rep + 72, ti, 360), "report carries target_info");
	CHECK(rep[REPORT_SIZE] == 0xee, "nothing written past the report");

	len = 100;
	ret = P->get_local_report(ti, sizeof(ti), rep, &len);
	CHECK(ret == -ENOSPC && len == REPORT_SIZE,
	      "small buffer: ret %d len %d", ret, len);

	len = REPORT_SIZE;
	ret = P->get_local_report(NULL, 0, rep, &len);
	CHECK(ret == 0 && len == REPORT_SIZE && !memcmp(rep + 72, zero, 360) &&
		      rep[32] == 0,
	      "NULL target_info: ret %d", ret);

	ret = P->get_local_report(NULL, 5, rep, &len);
	CHECK(ret == -EINVAL, "NULL target_info with length 5: %d", ret);
	ret = P->destroy();
	CHECK(ret == 0, "pal_destroy: %d", ret);
	len = REPORT_SIZE;
	ret = P->get_local_report(NULL, 0, rep, &len);
	CHECK(ret == -EINVAL, "report after pal_destroy: %d", ret);
}

/* ---- convention=spec|occlum|wamr ---- */

#define SENTINEL (-7777) /* out-parameters are pre-set to it */

/* pal_create_process of argv with stdout on out_fd (-1: ours); errno set. */
static int create_out(struct pal *P, char *const argv[], int out_fd, int *pid)
{
	pal_stdio_fds stdio = { -1, out_fd, -1 };
	pal_create_process_args ca;
	char *env[] = { NULL };

	ca.path = argv[0];
	ca.argv = (char **)argv;
	ca.env = env;
	ca.stdio = &stdio;
	ca.pid = pid;
	errno = 0;
	return P->create_process(&ca);
}

static int exec_pid(struct pal *P, int pid, int *exit_value)
{
	pal_exec_args ea = { pid, exit_value };

	errno = 0;
	return P->exec_v2(&ea);
}

static int kill_pid(struct pal *P, int pid, int sig)
{
	errno = 0;
	return P->kill(pid, sig);
}

static int destroy(struct pal *P)
{
	errno = 0;
	return P->destroy();
}

static void test_convention_spec(struct pal *P)
{
	char *exit3[] = { "/bin/sh", "-c", "exit 3", NULL };
	char *kill9[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
	static struct run r;
	char err[4096];
	int ret;

	ret = pal_init_with(P, "convention=spec", "info");
	CHECK(ret == 0, "pal_init(convention=spec): %d", ret);
	capture_begin();
	ret = pal_init_with(P, "convention=spec", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == -EBUSY, "spec: second pal_init: %d", ret);
	memset(&r, 0, sizeof(r));
	r.argv = exit3;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 3, "spec: exit 3: ret %d exit %d",
	      r.ret, r.exit_value);
	memset(&r, 0, sizeof(r));
	r.argv = kill9;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 128 + SIGKILL,
	      "spec: kill -9 $$: ret %d exit %d", r.ret, r.exit_value);
	if (P->version >= 2) {
		ret = kill_pid(P, 0, SIGUSR1);
		CHECK(ret == -ESRCH, "spec: pal_kill(0, SIGUSR1), no process: %d",
		      ret);
	}
	ret = destroy(P);
	CHECK(ret == 0, "spec: pal_destroy: %d", ret);
	ret = destroy(P);
	CHECK(ret == -EINVAL, "spec: pal_destroy when not initialised: %d", ret);
}

static void test_convention_occlum(struct pal *P)
{
	char *exit3[] = { "/bin/sh", "-c", "exit 3", NULL };
	char *kill9[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
	char *sleep100[] = { "/bin/sleep", "100", NULL };
	static struct run r;
	char err[4096];
	int ret, e, pid, ev;

	ret = pal_init_with(P, "convention=occlum", "info");
	CHECK(ret == 0, "pal_init(convention=occlum): %d", ret);
	capture_begin();
	ret = pal_init_with(P, "convention=occlum", "info");
	e = errno;
	capture_end(err, sizeof(err));
	CHECK(ret == -1 && e == EEXIST,
	      "occlum: second pal_init: ret %d errno %d", ret, e);

	memset(&r, 0, sizeof(r));
	r.argv = exit3;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == 3 << 8,
	      "occlum: exit 3 is wait status 768: ret %d exit %d", r.ret,
	      r.exit_value);
	memset(&r, 0, sizeof(r));
	r.argv = kill9;
	run(P, &r);
	CHECK(r.ret == 0 && r.exit_value == SIGKILL,
	      "occlum: kill -9 $$ is wait status 9: ret %d exit %d", r.ret,
	      r.exit_value);

	if (P->version >= 2) {
		pal_create_process_args ca = { "/bin/true", NULL, NULL, NULL,
					       &pid };

		pid = SENTINEL;
		ret = create_out(P, sleep100, -1, &pid);
		CHECK(ret == 0 && pid > 0, "occlum: create sleep: %d pid %d",
		      ret, pid);
		ret = kill_pid(P, pid, SIGUSR1);
		e = errno;
		CHECK(ret == -1 && e == EINVAL,
		      "occlum: pal_kill(pid, SIGUSR1): ret %d errno %d", ret, e);
		ret = kill_pid(P, 0, SIGTERM);
		e = errno;
		CHECK(ret == -1 && e == EPERM,
		      "occlum: pal_kill(0, SIGTERM): ret %d errno %d", ret, e);
		ret = kill_pid(P, -2, SIGTERM);
		e = errno;
		CHECK(ret == -1 && e == EINVAL,
		      "occlum: pal_kill(-2, SIGTERM): ret %d errno %d", ret, e);
		ret = kill_pid(P, pid, SIGTERM);
		CHECK(ret == 0, "occlum: pal_kill(pid, SIGTERM): %d", ret);
		ev = SENTINEL;
		ret = exec_pid(P, pid, &ev);
		CHECK(ret == 0 && ev == SIGTERM,
		      "occlum: SIGTERM (not SIGUSR1) ended it: ret %d exit %d",
		      ret, ev);
		ev = SENTINEL;
		ret = exec_pid(P, pid, &ev);
		e = errno;
		CHECK(ret == -1 && e == ESRCH && ev == SENTINEL,
		      "occlum: pal_exec(ended pid): ret %d errno %d exit %d", ret,
		      e, ev);

		pid = SENTINEL;
		errno = 0;
		ret = P->create_process(&ca);
		e = errno;
		CHECK(ret == -1 && e == EINVAL && pid == SENTINEL,
		      "occlum: argv NULL refused: ret %d errno %d pid %d", ret,
		      e, pid);
	}

	ret = destroy(P);
	CHECK(ret == 0, "occlum: pal_destroy: %d", ret);
	ret = destroy(P);
	e = errno;
	CHECK(ret == -1 && e == EINVAL,
	      "occlum: pal_destroy when not initialised: ret %d errno %d", ret,
	      e);
	memset(&r, 0, sizeof(r));
	r.argv = exit3;
	run(P, &r);
	CHECK(r.ret == -1 && r.err == EINVAL && r.exit_value == -1,
	      "occlum: run after pal_destroy: ret %d errno %d", r.ret, r.err);
}

static void test_convention_wamr(struct pal *P)
{
	char path[] = "/tmp/test_skeleton_trace_XXXXXX";
	char *slow[] = { "/bin/sh", "-c", "sleep 0.3; echo ran; exit 3", NULL };
	char args[128], err[4096], got[8192], buf[64], line[256];
	static struct run r;
	int fd, ret, pid, ev, out[2];
	double t0, dt;
	ssize_t n;

	fd = mkstemp(path);
	close(fd);

	capture_begin();
	ret = pal_init_with(P, "convention=wamr fail=pal_init", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == 1, "wamr: failing pal_init returns 1: %d", ret);
	capture_begin();
	ret = pal_init_with(P, "convention=wamr trace=/nonexistent/dir/t", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == 1, "wamr: unopenable trace file: pal_init returns 1: %d",
	      ret);

	snprintf(args, sizeof(args), "convention=wamr trace=%s", path);
	ret = pal_init_with(P, args, "info");
	CHECK(ret == 0, "pal_init(%s): %d", args, ret);
	capture_begin();
	ret = pal_init_with(P, args, "info");
	capture_end(err, sizeof(err));
	CHECK(ret == 1, "wamr: second pal_init returns 1: %d", ret);

	if (P->version >= 2) {
		if (pipe2(out, O_CLOEXEC)) {
			perror("pipe2");
			exit(2);
		}
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		pid = SENTINEL;
		t0 = now();
		ret = create_out(P, slow, out[1], &pid);
		dt = now() - t0;
		close(out[1]);
		n = read(out[0], buf, sizeof(buf));
		close(out[0]);
		CHECK(ret == 0 && pid == SENTINEL,
		      "wamr: pal_create_process: ret %d, pid untouched %d", ret,
		      pid);
		CHECK(n == 4 && !memcmp(buf, "ran\n", 4) && dt >= 0.25,
		      "wamr: the process ran to its end in the call: %.2fs, read %d",
		      dt, (int)n);

		ev = SENTINEL;
		t0 = now();
		ret = exec_pid(P, SENTINEL, &ev);
		dt = now() - t0;
		CHECK(ret == 0 && ev == SENTINEL && dt < 0.2,
		      "wamr: pal_exec returns 0 at once, exit untouched: ret %d exit %d %.2fs",
		      ret, ev, dt);
		ret = kill_pid(P, SENTINEL, SIGKILL) | kill_pid(P, 0, SIGUSR1) |
		      kill_pid(P, -2, 12345);
		CHECK(ret == 0, "wamr: pal_kill returns 0 whatever it gets: %d",
		      ret);
		pid = SENTINEL;
		ret = create_out(P, slow, 1000, &pid); /* not an open fd */
		CHECK(ret == 0 && pid == SENTINEL,
		      "wamr: failing pal_create_process (EBADF) returns 0: %d pid %d",
		      ret, pid);
	} else {
		memset(&r, 0, sizeof(r));
		r.argv = slow;
		run(P, &r); /* exit_value pre-set to -1 */
		CHECK(r.ret == 0 && r.exit_value == -1 && !strcmp(r.out, "ran\n"),
		      "wamr: v1 pal_exec runs, exit untouched: ret %d exit %d '%s'",
		      r.ret, r.exit_value, r.out);
	}

	ret = destroy(P);
	CHECK(ret == 0, "wamr: pal_destroy: %d", ret);
	ret = destroy(P);
	CHECK(ret == 0, "wamr: pal_destroy when not initialised returns 0: %d",
	      ret);
	if (P->version >= 2) {
		ev = SENTINEL;
		ret = exec_pid(P, 1, &ev);
		CHECK(ret == 0 && ev == SENTINEL,
		      "wamr: pal_exec after pal_destroy: ret %d exit %d", ret, ev);
	}

	read_file(path, got, sizeof(got));
	unlink(path);
	CHECK(strstr(got, "-> error=EBUSY\n") != NULL,
	      "wamr: trace has the second pal_init's error:\n%s", got);
	if (P->version >= 2) {
		snprintf(line, sizeof(line),
			 "argv=[/bin/sh,-c,sleep 0.3; echo ran; exit 3] stdio=-1,%d,-1 -> exit=3\n",
			 out[1]);
		CHECK(strstr(got, line) != NULL,
		      "wamr: trace has pal_create_process ... -> exit=3:\n%s", got);
		CHECK(strstr(got, "pal_exec pid=-7777 -> ignored\n") &&
			      strstr(got, "pal_kill pid=-7777 sig=9 -> ignored\n") &&
			      strstr(got, "-> error=EBADF\n"),
		      "wamr: trace has ignored pal_exec/pal_kill, EBADF:\n%s", got);
	}
}

static void test_convention_unknown(struct pal *P)
{
	char err[4096];
	int ret, e;

	capture_begin();
	ret = pal_init_with(P, "convention=sgx", "info");
	capture_end(err, sizeof(err));
	CHECK(ret == -EINVAL, "unknown convention fails pal_init: %d", ret);
	CHECK(strstr(err, "skeleton: pal_init: unknown convention 'sgx' "
			  "(expected spec, occlum or wamr)\n") != NULL,
	      "unknown convention message: '%s'", err);
	ret = destroy(P);
	CHECK(ret == -EINVAL, "not initialised after it, today's style: %d",
	      ret);
	capture_begin();
	ret = pal_init_with(P, "convention=Occlum errno-style", "info");
	e = errno;
	capture_end(err, sizeof(err));
	CHECK(ret == -1 && e == EINVAL && strstr(err, "'Occlum'"),
	      "unknown convention, errno-style: ret %d errno %d '%s'", ret, e,
	      err);
	ret = destroy(P);
	e = errno;
	CHECK(ret == -1 && e == EINVAL,
	      "not initialised after it, errno-style: ret %d errno %d", ret, e);
}

/* Each convention in turn; then a spec instance again, for later tests. */
static void test_conventions(struct pal *P)
{
	test_convention_spec(P);
	test_convention_occlum(P);
	test_convention_wamr(P);
	test_convention_unknown(P);
	CHECK(pal_init_with(P, "", "info") == 0 && P->destroy() == 0,
	      "back to the default convention");
}

int main(int argc, char **argv)
{
	int first = 1;

	self = argv[0];

	if (argc == 4 && !strcmp(argv[1], "--crash-child"))
		return crash_child(argv[2], argv[3]);
	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		first = 2;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: %s [-v] liberpal-skeleton-vN.so...\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_layout();
	for (int i = first; i < argc; i++) {
		struct pal P;
		int before = failed;

		snprintf(ctx, sizeof(ctx), "%s", argv[i]);
		if (load(argv[i], &P) < 0)
			continue;
		test_symbols(&P, argv[i]);
		test_uninitialized(&P);
		test_basic(&P);
		test_kill(&P);
		test_concurrent(&P);
		test_fail(&P);
		test_crash(argv[i]);
		test_trace(&P);
		test_report(&P);
		test_conventions(&P);
		printf("%s: %s\n", argv[i], failed == before ? "ok" : "FAILED");
		dlclose(P.h);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
