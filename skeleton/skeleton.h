/* SPDX-License-Identifier: Apache-2.0 */
/* Internal declarations of the skeleton enclave runtime. Not installed. */
#ifndef SKELETON_H
#define SKELETON_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "pal.h"

/* Only the pal_* entry points are exported (-fvisibility=hidden). */
#define PAL_EXPORT __attribute__((visibility("default")))

/* The calls the fail= and crash= options can name. */
enum skel_call {
	CALL_INIT,
	CALL_CREATE_PROCESS,
	CALL_EXEC,
	CALL_KILL,
	CALL_DESTROY,
	CALL_GET_LOCAL_REPORT,
	CALL_COUNT
};
extern const char *const skel_call_names[CALL_COUNT];

enum skel_log_level {
	LOG_TRACE,
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARNING,
	LOG_ERROR,
	LOG_FATAL,
	LOG_PANIC,
	LOG_OFF
};

/* convention=NAME: whose PAL conventions the skeleton follows. */
enum skel_convention { CONV_SPEC, CONV_OCCLUM, CONV_WAMR, CONV_COUNT };

/* Options parsed from pal_attr_t.args. */
struct skel_options {
	char *trace_path;      /* trace=FILE, or NULL */
	unsigned fail_mask;    /* fail=CALL: 1 << enum skel_call */
	unsigned crash_mask;   /* crash=CALL */
	int errno_style;       /* errno-style */
	int convention;        /* convention=NAME: enum skel_convention */
};

/* A payload process, from pal_create_process to the end of its pal_exec. */
enum skel_proc_state { PROC_CREATED, PROC_RUNNING };

struct skel_proc {
	struct skel_proc *next; /* newest first */
	pid_t pid;
	int release_fd;          /* our end of the release socket, or -1 */
	enum skel_proc_state state;
};

enum skel_phase { PHASE_UNINIT, PHASE_READY, PHASE_DESTROYING };

/* The one instance. Everything but the globals after it is under lock. */
struct skel_state {
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* signalled when nrunning drops */
	enum skel_phase phase;
	struct skel_options opt;
	int trace_fd;
	struct skel_proc *procs;
	int nrunning;              /* processes in PROC_RUNNING */
};
extern struct skel_state skel;
extern volatile int skel_log_level; /* enum skel_log_level */

/* util.c: growable string, for one-write() lines. */
struct strbuf {
	char *buf;
	size_t len, cap;
	int oom;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_add_escaped(struct strbuf *sb, const char *s);
void sb_add_argv(struct strbuf *sb, char *const argv[]);
const char *sb_str(struct strbuf *sb);

/* util.c: errno names, messages, options. */
const char *skel_errname(int err);
const char *skel_errdesc(int err);
void skel_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int skel_parse_log_level(const char *s, int *level);
int skel_parse_options(const char *args, struct skel_options *opt);
void skel_free_options(struct skel_options *opt);

/* util.c: trace. skel_trace_line writes sb as one line (adds '\n');
 * the caller holds skel.lock. */
void skel_trace_line(struct strbuf *sb);

/* process.c. All return 0 or a positive errno. */
int proc_spawn(const char *path, char *const argv[], char *const envp[],
	       const pal_stdio_fds *stdio, struct skel_proc **out);
int proc_wait(struct skel_proc *p, int *status); /* returns locked */
void proc_release(struct skel_proc *p);
int proc_kill(int pid, int sig);              /* lock held */
void proc_kill_and_reap_all(void);            /* lock held; may wait */
int proc_validate_stdio(const pal_stdio_fds *stdio);

/* convention.c. Convention and errno-style of the last pal_init, kept
 * after pal_destroy so that later calls fail in the same style. */
extern volatile int skel_convention; /* enum skel_convention */
extern volatile int skel_errno_style;
int conv_parse(const char *name);
int conv_ret(enum skel_call call, int err);
int conv_exit_value(int status);
int conv_busy_error(void);
int conv_check_create(const pal_create_process_args *args);
int conv_check_kill(int pid, int sig);

/* report.c */
#define SKEL_REPORT_MAGIC "SKELETON-SIMULATED-REPORT v1"
#define SKEL_REPORT_SIZE 432
void skel_make_report(const void *target_info, int target_info_len,
		      unsigned char report[SKEL_REPORT_SIZE]);

#endif /* SKELETON_H */
