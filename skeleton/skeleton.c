/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skeleton: an example enclave runtime implementing the PAL API v1, v2 or
 * v3 (compile with -DPAL_VERSION=1|2|3). The "enclave" is simulated: a
 * payload is a plain host process, see process.c.
 *
 * One instance per process. Every call takes skel.lock; pal_exec drops it
 * while it waits for its process, so several pal_exec calls can run at
 * once (one per thread), with pal_kill/pal_create_process in between.
 *
 * Return values, exit values and argument checks follow the convention
 * option (convention.c); with convention=wamr, pal_create_process runs the
 * process to its end and pal_exec and pal_kill do nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skeleton.h"

struct skel_state skel = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.phase = PHASE_UNINIT,
	.trace_fd = -1,
};

static void add_error(struct strbuf *sb, int err)
{
	const char *name = skel_errname(err);

	if (name)
		sb_addf(sb, " -> error=%s", name);
	else
		sb_addf(sb, " -> error=%d", err);
}

static void add_stdio(struct strbuf *sb, const pal_stdio_fds *stdio)
{
	if (stdio)
		sb_addf(sb, " stdio=%d,%d,%d", stdio->stdin, stdio->stdout,
			stdio->stderr);
	else
		sb_addf(sb, " stdio=null");
}

static __attribute__((noreturn)) void crash_now(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGSEGV);
	abort();
}

/*
 * Lock held. crash=CALL: trace, say so and crash. fail=CALL: trace, say
 * so, return EINVAL. Otherwise 0.
 */
static int fail_or_crash(enum skel_call call, struct strbuf *sb)
{
	const char *name = skel_call_names[call];

	if (skel.opt.crash_mask & (1u << call)) {
		sb_addf(sb, " -> crash");
		skel_trace_line(sb);
		skel_msg(LOG_ERROR, "%s: crashing as asked (crash=%s)", name,
			 name);
		crash_now();
	}
	if (skel.opt.fail_mask & (1u << call)) {
		add_error(sb, EINVAL);
		skel_trace_line(sb);
		skel_msg(LOG_ERROR, "%s: failing as asked (fail=%s)", name,
			 name);
		return EINVAL;
	}
	return 0;
}

/* Lock held. Calls other than pal_init need an initialized instance. */
static int check_ready(enum skel_call call)
{
	if (skel.phase == PHASE_READY)
		return 0;
	skel_msg(LOG_DEBUG, "%s: not initialized", skel_call_names[call]);
	return EINVAL;
}

static int do_init(const pal_attr_t *attr, int v3, int fd, uint64_t addr)
{
	struct skel_options opt;
	struct strbuf sb;
	int level, err = 0;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	sb_addf(&sb, "pal_init");
	if (attr) {
		if (attr->args) {
			sb_addf(&sb, " args=\"");
			sb_add_escaped(&sb, attr->args);
			sb_addf(&sb, "\"");
		} else {
			sb_addf(&sb, " args=null");
		}
		if (attr->log_level) {
			sb_addf(&sb, " log_level=");
			sb_add_escaped(&sb, attr->log_level);
		} else {
			sb_addf(&sb, " log_level=null");
		}
	} else {
		sb_addf(&sb, " attr=null");
	}
	if (v3)
		sb_addf(&sb, " fd=%d addr=0x%" PRIx64, fd, addr);

	if (skel.phase != PHASE_UNINIT) {
		err = conv_busy_error();
		add_error(&sb, err);
		skel_trace_line(&sb);
		skel_msg(LOG_ERROR, "pal_init: already initialized");
		goto out;
	}
	skel_errno_style = 0;
	skel_convention = CONV_SPEC;
	if (!attr) {
		err = EINVAL;
		goto out;
	}
	if (skel_parse_log_level(attr->log_level, &level) < 0) {
		skel_log_level = LOG_INFO;
		skel_msg(LOG_WARNING, "pal_init: unknown log level '%s', using info",
			 attr->log_level);
	} else {
		skel_log_level = level;
	}
	err = skel_parse_options(attr->args, &opt);
	skel_errno_style = opt.errno_style;
	if (err)
		goto out;
	skel_convention = opt.convention;
	if (opt.trace_path) {
		skel.trace_fd = open(opt.trace_path,
				     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				     0644);
		if (skel.trace_fd < 0) {
			err = errno;
			skel_msg(LOG_ERROR, "pal_init: cannot open trace file '%s': %s",
				 opt.trace_path, skel_errdesc(err));
			skel_free_options(&opt);
			goto out;
		}
	}
	skel.opt = opt;
	err = fail_or_crash(CALL_INIT, &sb);
	if (err) {
		close(skel.trace_fd);
		skel.trace_fd = -1;
		skel_free_options(&skel.opt);
		memset(&skel.opt, 0, sizeof(skel.opt));
		goto out;
	}
	skel_trace_line(&sb);
	skel.phase = PHASE_READY;
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_INIT, err);
}

#if PAL_VERSION >= 3
PAL_EXPORT int pal_init(pal_attr_v3_t *attr)
{
	if (!attr)
		return do_init(NULL, 1, -1, 0);
	return do_init(&attr->attr_v1, 1, attr->fd, attr->addr);
}
#else
PAL_EXPORT int pal_init(pal_attr_t *attr)
{
	return do_init(attr, 0, -1, 0);
}
#endif

/*
 * Lock held, p created and linked. Release p, wait for it (lock dropped
 * meanwhile), trace the result, store it in *exit_value unless that is
 * NULL; unlinks and frees p. Returns with the lock held.
 */
static int run_and_wait(struct skel_proc *p, int *exit_value,
			struct strbuf *sb)
{
	int err, ev, status = 0;

	p->state = PROC_RUNNING;
	skel.nrunning++;
	proc_release(p);
	pthread_mutex_unlock(&skel.lock);
	err = proc_wait(p, &status); /* returns with the lock held */
	if (err) {
		add_error(sb, err);
	} else {
		ev = conv_exit_value(status);
		if (exit_value)
			*exit_value = ev;
		sb_addf(sb, " -> exit=%d", ev);
	}
	skel_trace_line(sb);
	skel.nrunning--;
	pthread_cond_broadcast(&skel.cond);
	free(p);
	return err;
}

#if PAL_VERSION >= 2
PAL_EXPORT int pal_get_version(void)
{
	return PAL_VERSION;
}

PAL_EXPORT int pal_create_process(pal_create_process_args *args)
{
	struct skel_proc *p = NULL;
	struct strbuf sb;
	int err;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	err = check_ready(CALL_CREATE_PROCESS);
	if (err)
		goto out;
	sb_addf(&sb, "pal_create_process");
	if (args) {
		sb_addf(&sb, " path=");
		if (args->path)
			sb_add_escaped(&sb, args->path);
		else
			sb_addf(&sb, "null");
		sb_addf(&sb, " argv=");
		sb_add_argv(&sb, args->argv);
		add_stdio(&sb, args->stdio);
	} else {
		sb_addf(&sb, " args=null");
	}
	err = fail_or_crash(CALL_CREATE_PROCESS, &sb);
	if (err)
		goto out;
	err = conv_check_create(args);
	if (!err)
		err = proc_validate_stdio(args->stdio);
	if (!err)
		err = proc_spawn(args->path, args->argv, args->env, args->stdio,
				 &p);
	if (err) {
		add_error(&sb, err);
	} else {
		p->next = skel.procs;
		skel.procs = p;
		if (skel_convention == CONV_WAMR) {
			/* WAMR runs it here, to its end; *pid is not written */
			err = run_and_wait(p, NULL, &sb);
			goto out;
		}
		*args->pid = p->pid;
		sb_addf(&sb, " -> pid=%d", (int)p->pid);
	}
	skel_trace_line(&sb);
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_CREATE_PROCESS, err);
}

PAL_EXPORT int pal_exec(pal_exec_args *args)
{
	struct skel_proc *p = NULL;
	struct strbuf sb;
	int err;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	err = check_ready(CALL_EXEC);
	if (err)
		goto out;
	if (args)
		sb_addf(&sb, "pal_exec pid=%d", args->pid);
	else
		sb_addf(&sb, "pal_exec args=null");
	err = fail_or_crash(CALL_EXEC, &sb);
	if (err)
		goto out;
	if (skel_convention == CONV_WAMR) {
		/* the process ran in pal_create_process */
		sb_addf(&sb, " -> ignored");
		skel_trace_line(&sb);
		goto out;
	}
	if (!args || !args->exit_value) {
		err = EINVAL;
	} else {
		for (p = skel.procs; p; p = p->next)
			if (p->pid == args->pid)
				break;
		if (!p)
			err = ESRCH;
		else if (p->state != PROC_CREATED)
			err = EINVAL; /* already started */
	}
	if (err) {
		add_error(&sb, err);
		skel_trace_line(&sb);
		goto out;
	}
	err = run_and_wait(p, args->exit_value, &sb);
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_EXEC, err);
}

PAL_EXPORT int pal_kill(int pid, int sig)
{
	struct strbuf sb;
	int err;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	err = check_ready(CALL_KILL);
	if (err)
		goto out;
	sb_addf(&sb, "pal_kill pid=%d sig=%d", pid, sig);
	err = fail_or_crash(CALL_KILL, &sb);
	if (err)
		goto out;
	if (skel_convention == CONV_WAMR) {
		sb_addf(&sb, " -> ignored");
		skel_trace_line(&sb);
		goto out;
	}
	err = conv_check_kill(pid, sig);
	if (!err)
		err = proc_kill(pid, sig);
	if (err)
		add_error(&sb, err);
	skel_trace_line(&sb);
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_KILL, err);
}

#else /* PAL_VERSION == 1 */

extern char **environ;

/* v1: create, start and wait in one call, with the host's environment. */
PAL_EXPORT int pal_exec(char *path, char *argv[], pal_stdio_fds *stdio,
			int *exit_code)
{
	struct skel_proc *p = NULL;
	struct strbuf sb;
	int err;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	err = check_ready(CALL_EXEC);
	if (err)
		goto out;
	sb_addf(&sb, "pal_exec path=");
	if (path)
		sb_add_escaped(&sb, path);
	else
		sb_addf(&sb, "null");
	sb_addf(&sb, " argv=");
	sb_add_argv(&sb, argv);
	add_stdio(&sb, stdio);
	err = fail_or_crash(CALL_EXEC, &sb);
	if (err)
		goto out;
	if (!path || (!exit_code && skel_convention != CONV_WAMR))
		err = EINVAL;
	else
		err = proc_validate_stdio(stdio);
	if (!err)
		err = proc_spawn(path, argv, environ, stdio, &p);
	if (err) {
		add_error(&sb, err);
		skel_trace_line(&sb);
		goto out;
	}
	p->next = skel.procs;
	skel.procs = p;
	/* WAMR never writes the exit value */
	err = run_and_wait(p, skel_convention == CONV_WAMR ? NULL : exit_code,
			   &sb);
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_EXEC, err);
}
#endif /* PAL_VERSION */

PAL_EXPORT int pal_destroy(void)
{
	struct strbuf sb;
	int err, fail;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	err = check_ready(CALL_DESTROY);
	if (err)
		goto out;
	sb_addf(&sb, "pal_destroy");
	if (skel.opt.crash_mask & (1u << CALL_DESTROY))
		fail_or_crash(CALL_DESTROY, &sb); /* does not return */
	/* fail=pal_destroy tears down as usual, then reports the failure. */
	fail = skel.opt.fail_mask & (1u << CALL_DESTROY);
	skel.phase = PHASE_DESTROYING;
	proc_kill_and_reap_all();
	if (fail)
		err = fail_or_crash(CALL_DESTROY, &sb);
	else
		skel_trace_line(&sb);
	if (skel.trace_fd >= 0)
		close(skel.trace_fd);
	skel.trace_fd = -1;
	skel_free_options(&skel.opt);
	memset(&skel.opt, 0, sizeof(skel.opt));
	skel.phase = PHASE_UNINIT;
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_DESTROY, err);
}

#if PAL_VERSION >= 3
PAL_EXPORT int pal_get_local_report(void *target_info, int target_info_len,
				    void *report, int *report_len)
{
	unsigned char buf[SKEL_REPORT_SIZE];
	struct strbuf sb;
	int err;

	pthread_mutex_lock(&skel.lock);
	sb_init(&sb);
	err = check_ready(CALL_GET_LOCAL_REPORT);
	if (err)
		goto out;
	sb_addf(&sb, "pal_get_local_report target_info_len=%d",
		target_info_len);
	if (report_len)
		sb_addf(&sb, " report_len=%d", *report_len);
	else
		sb_addf(&sb, " report_len=null");
	err = fail_or_crash(CALL_GET_LOCAL_REPORT, &sb);
	if (err)
		goto out;
	if (target_info_len < 0 || (!target_info && target_info_len > 0) ||
	    !report_len) {
		err = EINVAL;
	} else if (*report_len < SKEL_REPORT_SIZE) {
		*report_len = SKEL_REPORT_SIZE; /* the size needed */
		err = ENOSPC;
	} else if (!report) {
		err = EINVAL;
	}
	if (err) {
		add_error(&sb, err);
	} else {
		skel_make_report(target_info, target_info_len, buf);
		memcpy(report, buf, SKEL_REPORT_SIZE);
		*report_len = SKEL_REPORT_SIZE;
		sb_addf(&sb, " -> report_len=%d", SKEL_REPORT_SIZE);
	}
	skel_trace_line(&sb);
out:
	pthread_mutex_unlock(&skel.lock);
	sb_free(&sb);
	return conv_ret(CALL_GET_LOCAL_REPORT, err);
}
#endif
