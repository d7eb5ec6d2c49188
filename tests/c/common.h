/* common.h: what the librune C tests share: a tiny check harness, a busybox rootfs built from
 * /bin/busybox, a config.json for it, and leak checks. Each test program includes it once. */
#ifndef RUNE_TEST_COMMON_H
#define RUNE_TEST_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "rune.h"

static int passed, failed;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* Records one check; prints failures (with the librune error, if any). */
static void check_at(int ok, const char *file, int line, const char *fmt, ...) {
  pthread_mutex_lock(&report_lock);
  if (ok) {
    passed++;
  } else {
    va_list ap;
    failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
  }
  pthread_mutex_unlock(&report_lock);
}
#define CHECK(cond, ...) check_at((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

/* Checks that a call returned `want` (with an error object exactly when it failed); frees the
 * error. */
static void expect_at(rune_result_t got, rune_error_t *err, rune_result_t want, const char *file,
                      int line, const char *what) {
  int ok = got == want && (want == RUNE_RESULT_OK) == (err == NULL) &&
           (err == NULL || rune_error_code(err) == want);
  check_at(ok, file, line, "%s: got %s (%s), want %s", what, rune_result_name((int32_t)got),
           err ? rune_error_message(err) : "no error", rune_result_name((int32_t)want));
  rune_error_free(err);
}
/* EXPECT(RUNE_RESULT_X, f(args..., &err)): `err` must be a rune_error_t * in scope. */
#define EXPECT(want, call)                                          \
  do {                                                              \
    rune_result_t r_ = (call);                                      \
    expect_at(r_, err, (want), __FILE__, __LINE__, #call);          \
    err = NULL;                                                     \
  } while (0)
#define OK(call) EXPECT(RUNE_RESULT_OK, call)

/* Like EXPECT, but keeps the error in `err` for the caller to inspect (and free). */
#define EXPECT_KEEP(want, call)                                                            \
  do {                                                                                     \
    rune_result_t r_ = (call);                                                             \
    CHECK(r_ == (want) && err != NULL && rune_error_code(err) == (want), "%s: got %s (%s)", \
          #call, rune_result_name((int32_t)r_), err ? rune_error_message(err) : "no error"); \
  } while (0)

static int report(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

/* ---- files ---------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) die(path);
}

static inline char *read_file(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "r");
  size_t n;
  if (!f) return NULL;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void copy_file(const char *from, const char *to, mode_t mode) {
  char buf[65536];
  ssize_t n;
  int in = open(from, O_RDONLY | O_CLOEXEC), out;
  if (in < 0) die(from);
  out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) die(to);
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) die(to);
  if (n < 0) die(from);
  close(in);
  close(out);
}

/* ---- the busybox bundle --------------------------------------------------------------- */

/* A work dir: <tmp>/rootfs (busybox), <tmp>/state (the librune root), <tmp>/bundle. */
struct testdir {
  char base[64];
  char rootfs[128];
  char state[128];
  char bundle[128];
};

static void make_testdir(struct testdir *t) {
  static const char *dirs[] = {"bin", "proc", "sys", "dev", "etc", "tmp", "root"};
  static const char *applets[] = {"sh",   "true", "false", "sleep",    "echo", "cat",
                                  "test", "pwd",  "id",    "hostname", "ps",   "kill"};
  char p[256];
  size_t i;
  strcpy(t->base, "/tmp/rune-ctest-XXXXXX");
  if (!mkdtemp(t->base)) die("mkdtemp");
  snprintf(t->rootfs, sizeof t->rootfs, "%s/rootfs", t->base);
  snprintf(t->state, sizeof t->state, "%s/state", t->base);
  snprintf(t->bundle, sizeof t->bundle, "%s/bundle", t->base);
  if (mkdir(t->rootfs, 0755) != 0 || mkdir(t->bundle, 0755) != 0) die("mkdir");
  for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    snprintf(p, sizeof p, "%s/%s", t->rootfs, dirs[i]);
    if (mkdir(p, 0755) != 0) die(p);
  }
  snprintf(p, sizeof p, "%s/bin/busybox", t->rootfs);
  copy_file("/bin/busybox", p, 0755);
  for (i = 0; i < sizeof applets / sizeof *applets; i++) {
    snprintf(p, sizeof p, "%s/bin/%s", t->rootfs, applets[i]);
    if (symlink("busybox", p) != 0) die(p);
  }
  snprintf(p, sizeof p, "%s/etc/passwd", t->rootfs);
  write_file(p, "root:x:0:0:root:/root:/bin/sh\n");
  snprintf(p, sizeof p, "%s/etc/group", t->rootfs);
  write_file(p, "root:x:0:\n");
}

/* A config.json (as text) running `args_json` (a JSON array) in the busybox rootfs at
 * `root_path`. The caller frees it. */
static char *config_json(const char *root_path, const char *args_json) {
  static const char fmt[] =
      "{\"ociVersion\": \"1.0.2\",\n"
      " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},\n"
      "   \"args\": %s,\n"
      "   \"env\": [\"PATH=/bin\", \"HOME=/root\"], \"cwd\": \"/\",\n"
      "   \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],\n"
      "                    \"permitted\": [\"CAP_KILL\"]},\n"
      "   \"noNewPrivileges\": true},\n"
      " \"root\": {\"path\": \"%s\", \"readonly\": true},\n"
      " \"hostname\": \"rune-c\",\n"
      " \"mounts\": [\n"
      "   {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
      "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
      "    \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
      "   {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}],\n"
      " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},\n"
      "                              {\"type\": \"mount\"}, {\"type\": \"network\"}],\n"
      "           \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\"],\n"
      "           \"readonlyPaths\": [\"/proc/sys\", \"/proc/sysrq-trigger\"]}}\n";
  size_t n = sizeof fmt + strlen(root_path) + strlen(args_json);
  char *s = malloc(n);
  if (!s) die("malloc");
  snprintf(s, n, fmt, args_json, root_path);
  return s;
}

/* A context on t->state; its init binary comes from $RUNE_INIT_BINARY (set by the Makefile). */
static rune_context_t *new_context(const struct testdir *t) {
  rune_context_t *ctx = NULL;
  rune_error_t *err = NULL;
  if (rune_context_new(t->state, &ctx, &err) != RUNE_RESULT_OK) {
    fprintf(stderr, "rune_context_new: %s\n", rune_error_message(err));
    exit(2);
  }
  return ctx;
}

/* ---- leak checks ---------------------------------------------------------------------- */

/* The memory cgroup a container `id` gets by default (below ours), or "" if unknown. */
static void memory_cgroup_of(const char *id, char *out, size_t n) {
  char line[512];
  FILE *f = fopen("/proc/self/cgroup", "r");
  out[0] = 0;
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    char *c = strstr(line, ":memory:");
    if (c) {
      c += strlen(":memory:");
      c[strcspn(c, "\n")] = 0;
      snprintf(out, n, "/sys/fs/cgroup/memory%s/%s", strcmp(c, "/") == 0 ? "" : c, id);
    }
  }
  fclose(f);
}

/* Nothing of container `id` (init `pid`) is left: no process, no state dir, no cgroup. */
static void check_gone(const struct testdir *t, const char *id, int pid) {
  char p[512];
  struct stat st;
  CHECK(pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH), "%s: init %d still exists", id, pid);
  snprintf(p, sizeof p, "%s/%s", t->state, id);
  CHECK(stat(p, &st) != 0 && errno == ENOENT, "%s: state dir %s left behind", id, p);
  memory_cgroup_of(id, p, sizeof p);
  CHECK(p[0] == 0 || (stat(p, &st) != 0 && errno == ENOENT), "%s: cgroup %s left behind", id,
        p);
}

#endif /* RUNE_TEST_COMMON_H */
