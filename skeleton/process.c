/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Payload processes of the skeleton: the "enclave" is simulated by plain
 * host processes.
 *
 * pal_create_process forks a child that resets its signal state and waits
 * on a socket until pal_exec sends it one byte; then it installs the stdio
 * fds as 0/1/2, closes every other fd and execve()s the program. pal_exec
 * waits for it with waitid(WNOWAIT) without holding the lock, and reaps it
 * under the lock, so that a pid in the table is never a reaped (reusable)
 * pid and pal_kill can signal it safely.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skeleton.h"

/* --- child side: async-signal-safe calls only --- */

static void child_write(const char *s)
{
	ssize_t n;
	size_t len = strlen(s);

	while (len) {
		n = write(STDERR_FILENO, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void child_write_int(int v)
{
	char buf[16], *p = buf + sizeof(buf) - 1;
	unsigned u = v < 0 ? -(unsigned)v : (unsigned)v;

	*p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) && p > buf + 1);
	if (v < 0)
		*--p = '-';
	child_write(p);
}

static void child_close_from(int lowfd, int maxfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0u) == 0)
		return;
#endif
	for (int fd = lowfd; fd < maxfd; fd++)
		close(fd);
}

static __attribute__((noreturn)) void
child_main(int sock, const char *path, char *const argv[], char *const envp[],
	   const int fds[3], int maxfd)
{
	struct sigaction sa;
	sigset_t none;
	int tmp[3];
	char c;
	ssize_t n;

	/* The payload starts with default signal handling and no mask,
	 * whatever the host process set up (handlers, SIG_IGN, masks). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	do
		n = read(sock, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* never released: pal_destroy, or the host died */

	/* Move the stdio fds out of the way first: they may be 0-2 in any
	 * order. dup2 onto 0-2 then clears FD_CLOEXEC. */
	for (int i = 0; i < 3; i++)
		tmp[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : -1;
	for (int i = 0; i < 3; i++)
		if (tmp[i] >= 0)
			dup2(tmp[i], i);
	child_close_from(3, maxfd);

	execve(path, argv, envp);

	int err = errno;
	const char *name = skel_errname(err);

	child_write("skeleton: cannot execute '");
	child_write(path);
	child_write("': ");
	if (name) {
		child_write(name);
	} else {
		child_write("errno ");
		child_write_int(err);
	}
	child_write(" (");
	child_write(skel_errdesc(err));
	child_write(")\n");
	_exit(127);
}

/* --- host side --- */

int proc_validate_stdio(const pal_stdio_fds *stdio)
{
	if (!stdio)
		return 0;
	if ((stdio->stdin >= 0 && fcntl(stdio->stdin, F_GETFD) < 0) ||
	    (stdio->stdout >= 0 && fcntl(stdio->stdout, F_GETFD) < 0) ||
	    (stdio->stderr >= 0 && fcntl(stdio->stderr, F_GETFD) < 0))
		return EBADF;
	return 0;
}

/*
 * Fork a payload process that waits to be released. stdio NULL, or an fd
 * < 0 in it, means the child keeps the host's fd 0/1/2. argv NULL means
 * { path, NULL }; envp NULL means an empty environment.
 */
int proc_spawn(const char *path, char *const argv[], char *const envp[],
	       const pal_stdio_fds *stdio, struct skel_proc **out)
{
	char *default_argv[2] = { (char *)path, NULL };
	char *empty_env[1] = { NULL };
	int fds[3] = { 0, 1, 2 };
	struct skel_proc *p;
	struct rlimit rl;
	sigset_t all, old;
	int sv[2], maxfd = 1024, err;
	pid_t pid;

	if (stdio) {
		fds[0] = stdio->stdin;
		fds[1] = stdio->stdout;
		fds[2] = stdio->stderr;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 65536)
		maxfd = (int)rl.rlim_cur;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return errno;

	/* No signal handler of the host may run in the child before it has
	 * reset them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_main(sv[1], path, argv ? argv : default_argv,
			   envp ? envp : empty_env, fds, maxfd);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return err;
	}
	/* Allocated after fork(): the child owns no heap memory of ours. */
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(sv[0]); /* the child sees EOF and exits */
		while (waitpid(pid, &err, 0) < 0 && errno == EINTR)
			;
		return ENOMEM;
	}
	p->pid = pid;
	p->release_fd = sv[0];
	p->state = PROC_CREATED;
	*out = p;
	return 0;
}

/* Let a created process execve(). */
void proc_release(struct skel_proc *p)
{
	ssize_t n;

	if (p->release_fd < 0)
		return;
	/* MSG_NOSIGNAL: no SIGPIPE if the child is already gone. */
	do
		n = send(p->release_fd, "x", 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	close(p->release_fd);
	p->release_fd = -1;
}

/*
 * Wait for a released (PROC_RUNNING) process to end, without the lock;
 * then take the lock, reap the process and unlink it. Returns with the
 * lock held (the caller traces, drops nrunning and frees p): 0 and the
 * wait status, or an errno (ECHILD if someone else reaped it).
 */
int proc_wait(struct skel_proc *p, int *status_out)
{
	struct skel_proc **pp;
	siginfo_t si;
	int r, status = 0, err = 0;
	pid_t w;

	do {
		memset(&si, 0, sizeof(si));
		r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		err = errno;

	pthread_mutex_lock(&skel.lock);
	if (!err) {
		do
			w = waitpid(p->pid, &status, 0);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			err = errno;
		else
			*status_out = status;
	}
	for (pp = &skel.procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	return err;
}

static int kill_one(struct skel_proc *p, int sig)
{
	return kill(p->pid, sig) < 0 ? errno : 0;
}

/* pid > 0: that process; 0: the newest; -1: all. Lock held. */
int proc_kill(int pid, int sig)
{
	struct skel_proc *p;
	int err = 0;

	if (sig < 0 || sig >= NSIG)
		return EINVAL;
	if (pid == 0)
		return skel.procs ? kill_one(skel.procs, sig) : ESRCH;
	if (pid == -1) {
		for (p = skel.procs; p; p = p->next) {
			int e = kill_one(p, sig);

			if (e && !err)
				err = e;
		}
		return err;
	}
	if (pid < 0)
		return EINVAL;
	for (p = skel.procs; p; p = p->next)
		if (p->pid == pid)
			return kill_one(p, sig);
	return ESRCH;
}

/*
 * For pal_destroy: SIGKILL everything; reap and free the processes nobody
 * waits for (PROC_CREATED); wait until the pal_exec calls waiting for the
 * others have reaped theirs. Lock held; released while waiting.
 */
void proc_kill_and_reap_all(void)
{
	struct skel_proc *p, **pp, *mine = NULL;
	int status;

	for (p = skel.procs; p; p = p->next)
		kill(p->pid, SIGKILL);
	pp = &skel.procs;
	while ((p = *pp)) {
		if (p->state == PROC_CREATED) {
			*pp = p->next;
			p->next = mine;
			mine = p;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&skel.lock);
	while ((p = mine)) {
		mine = p->next;
		if (p->release_fd >= 0)
			close(p->release_fd);
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		free(p);
	}
	pthread_mutex_lock(&skel.lock);
	while (skel.nrunning > 0)
		pthread_cond_wait(&skel.cond, &skel.lock);
}
