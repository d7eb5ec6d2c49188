# lib.sh: shared by the client test scripts (sourced). Each check prints `ok NAME` or
# `FAIL NAME: reason` and appends the line to $RESULTS, which run.sh counts.
#
# Expected from run.sh: RUNE, PAL (the skeleton v3 PAL), T (the temp dir holding all state),
# RESULTS, CGROUP_PARENT (e.g. /rune-clients-PID, unique to this run), IMAGES (mkimage.py's
# output dir), PY (Debian's python3).

pass() {
  echo "ok $1"
  echo "ok $1" >>"$RESULTS"
}

fail() {
  local name=$1; shift
  local reason
  reason=$(printf '%s' "$*" | tr -d '\000\r' | tr '\n' ' ' | sed 's/\x1b\[[0-9;]*m//g; s/  */ /g' | cut -c1-900)
  echo "FAIL $name: $reason"
  echo "FAIL $name: $reason" >>"$RESULTS"
}

# check NAME FUNC [ARGS...]: runs FUNC (which returns non-zero and says why on its output when
# the check fails) and records the result. FUNC runs in a subshell, so it cannot leak `cd` or
# variables, and `set -e` does not apply inside it: each step must `|| return`.
check() {
  local name=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then
    pass "$name"
  else
    fail "$name" "${out:-exit status $rc}"
  fi
}

# want WHAT GOT WANT: equality, with a message.
want() {
  if [ "$2" != "$3" ]; then
    echo "$1: got '$2', want '$3'"
    return 1
  fi
}

# want_in WHAT HAYSTACK NEEDLE: substring, with a message.
want_in() {
  case "$2" in
    *"$3"*) return 0 ;;
  esac
  echo "$1: '$3' not in: $2"
  return 1
}

# tty_run CMD...: runs a command on a pseudo-terminal (ctr, docker and podman need one for -t);
# prints its output and exits with its exit code.
tty_run() {
  local cmd
  printf -v cmd '%q ' "$@"
  script -qec "$cmd" /dev/null </dev/null
}

# alive PID: the process exists and is not a zombie.
alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# wait_for TIMEOUT_S CMD...: polls CMD every 0.1 s until it succeeds, at most TIMEOUT_S seconds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# start_daemon NAME LOG SOCKET TIMEOUT_S CMD...: starts CMD in the background (stdout and
# stderr to LOG), records its pid in $T/pids/NAME, and waits until SOCKET exists. Fails with
# the tail of LOG when the daemon exits or the socket does not appear in time.
start_daemon() {
  local name=$1 log=$2 sock=$3 timeout=$4; shift 4
  mkdir -p "$T/pids"
  "$@" >"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$T/pids/$name"
  local deadline=$((SECONDS + timeout))
  until [ -S "$sock" ]; do
    if ! alive "$pid"; then
      echo "$name exited before its socket $sock appeared; its log ends with:"
      tail -n 25 "$log"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name: no socket $sock after ${timeout}s; its log ends with:"
      tail -n 25 "$log"
      return 1
    fi
    sleep 0.1
  done
}

# children PID: the pids of PID's direct children.
children() {
  pgrep -P "$1" || true
}

# stop_daemon NAME [TIMEOUT_S]: TERM to the pid start_daemon recorded (and, after the timeout,
# KILL to it and to its children, e.g. dockerd's own containerd), then waits for it.
stop_daemon() {
  local name=$1 timeout=${2:-20}
  local f="$T/pids/$name"
  [ -f "$f" ] || return 0
  local pid kids
  pid=$(cat "$f")
  kids=$(children "$pid")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_for "$timeout" eval "! alive $pid" || {
      echo "$name (pid $pid) still running ${timeout}s after TERM: KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    }
  fi
  local k
  for k in $kids; do
    if alive "$k"; then
      wait_for 10 eval "! alive $k" || kill -KILL "$k" 2>/dev/null || true
    fi
  done
  wait "$pid" 2>/dev/null || true
  rm -f "$f"
}

# procs_under DIR: live processes (not zombies, not this shell) whose command line mentions
# DIR: daemons, shims (-address DIR/...), conmon, rune, containers' processes. One per line:
# "PID COMMAND-LINE".
procs_under() {
  local p pid cmd
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = "$$" ] && continue
    [ "$pid" = "${BASHPID:-$$}" ] && continue
    cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    case "$cmd" in
      *"$1"*) alive "$pid" && echo "$pid ${cmd:0:200}" ;;
    esac
  done
  return 0
}
