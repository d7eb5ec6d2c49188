/* threads.c: librune in a multi-threaded host. 8 threads share one context and one options
 * object and each runs its own containers at once (create, state, start, exec, wait, delete);
 * every one must succeed and nothing may be left behind. */
#include "common.h"

#define THREADS 8
#define ROUNDS 2

struct job {
  const struct testdir *t;
  rune_context_t *ctx;
  rune_create_options_t *sleeper; /* shared by all threads: `sleep 1000` */
  int n;
  int pids[ROUNDS * 2];
};

/* One container whose process exits with `code`: create from the thread's own config. */
static void run_exit_code(struct job *j, int round) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_container_t *c = NULL;
  char id[64], args[64], *config, *json = NULL;
  int32_t code = -1, pid = 0;
  int want = 10 + j->n;

  snprintf(id, sizeof id, "t%d-exit-%d", j->n, round);
  snprintf(args, sizeof args, "[\"sh\", \"-c\", \"exit %d\"]", want);
  config = config_json(j->t->rootfs, args);
  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, NULL, &err));
  free(config);
  OK(rune_container_create(j->ctx, id, opts, &c, &err));
  rune_create_options_free(opts);
  if (!c) return;
  OK(rune_container_state_json(c, &json, &err));
  CHECK(json && strstr(json, "\"status\":\"created\""), "%s: state %s", id, json);
  rune_string_free(json);
  OK(rune_container_pid(c, &pid, &err));
  j->pids[round * 2] = pid;
  OK(rune_container_start(c, &err));
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == want, "%s: exit code %d, want %d", id, code, want);
  OK(rune_container_delete(c, false, &err));
  rune_container_free(c);
}

/* One long-running container (from the shared options) with an exec, then killed. */
static void run_exec_kill(struct job *j, int round) {
  rune_error_t *err = NULL;
  rune_exec_options_t *ex = NULL;
  rune_container_t *c = NULL;
  char id[64], script[64];
  const char *args[] = {"sh", "-c", script};
  int32_t code = -1, xpid = 0, pid = 0;

  snprintf(id, sizeof id, "t%d-exec-%d", j->n, round);
  snprintf(script, sizeof script, "exit %d", 40 + j->n);
  OK(rune_container_create(j->ctx, id, j->sleeper, &c, &err));
  if (!c) return;
  OK(rune_container_start(c, &err));
  OK(rune_container_pid(c, &pid, &err));
  j->pids[round * 2 + 1] = pid;
  OK(rune_exec_options_new(&ex, &err));
  OK(rune_exec_options_set_args(ex, args, 3, &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  rune_exec_options_free(ex);
  OK(rune_process_wait(xpid, &code, &err));
  CHECK(code == 40 + j->n, "%s: exec exit code %d", id, code);
  OK(rune_container_kill(c, SIGKILL, false, &err));
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == 128 + SIGKILL, "%s: exit code %d after SIGKILL", id, code);
  OK(rune_container_delete(c, false, &err));
  rune_container_free(c);
}

static void *worker(void *arg) {
  struct job *j = arg;
  int round;
  for (round = 0; round < ROUNDS; round++) {
    run_exit_code(j, round);
    run_exec_kill(j, round);
  }
  return NULL;
}

int main(void) {
  struct testdir t;
  struct job jobs[THREADS];
  pthread_t threads[THREADS];
  rune_context_t *ctx;
  rune_create_options_t *sleeper = NULL;
  rune_error_t *err = NULL;
  char *json = NULL, *config;
  int i, k;

  make_testdir(&t);
  ctx = new_context(&t);
  config = config_json(t.rootfs, "[\"sleep\", \"1000\"]");
  OK(rune_create_options_new(&sleeper, &err));
  OK(rune_create_options_set_config_json(sleeper, config, NULL, &err));
  free(config);
  for (i = 0; i < THREADS; i++) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].t = &t;
    jobs[i].ctx = ctx;
    jobs[i].sleeper = sleeper;
    jobs[i].n = i;
    CHECK(pthread_create(&threads[i], NULL, worker, &jobs[i]) == 0, "pthread_create %d", i);
  }
  for (i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);

  OK(rune_context_list_json(ctx, &json, &err));
  CHECK(json && strcmp(json, "null") == 0, "containers left: %s", json);
  rune_string_free(json);
  for (i = 0; i < THREADS; i++) {
    for (k = 0; k < ROUNDS; k++) {
      char id[64];
      snprintf(id, sizeof id, "t%d-exit-%d", i, k);
      check_gone(&t, id, jobs[i].pids[k * 2]);
      snprintf(id, sizeof id, "t%d-exec-%d", i, k);
      check_gone(&t, id, jobs[i].pids[k * 2 + 1]);
    }
  }
  rune_create_options_free(sleeper);
  rune_context_free(ctx);
  rm_rf(t.base);
  return report();
}
