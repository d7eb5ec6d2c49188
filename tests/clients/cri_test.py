#!/usr/bin/python3
"""cri_test.py: rune under containerd's CRI plugin, driven as the kubelet drives it.

A minimal CRI client (runtime.v1 over gRPC) on containerd's socket. A pod with the kubelet's
defaults (a PID namespace per container), whose sandbox and containers run with the runtime
handler "rune" (the CRI config's runtimes.rune, BinaryName = rune): a container that exits with
a known code and output, a long-running one (rune lists it; ExecSync into it; StopContainer),
then everything removed as the kubelet removes it. A second pod shares one PID namespace
(shareProcessNamespace). Each check prints `ok NAME` or `FAIL NAME: reason` (and appends the
line to $RESULTS when set).

Usage: cri_test.py --socket S --gen DIR --rune RUNE --rune-root ROOT --logs DIR --cgroup-parent P
  [--systemd]
  --systemd:   containerd runs with SystemdCgroup = true: pods get slices (P-<pod>.slice, as the
               kubelet's systemd driver names them), containers transient scopes whose limits
               systemd reports
  --gen:       where protoc wrote api_pb2.py (from api.proto)
  --rune-root: the --root the shim gives rune for the k8s.io namespace (Options.Root/k8s.io)
"""
import argparse
import json
import os
import subprocess
import sys
import time

import grpc

IMAGE = "docker.io/rune-test/busybox:latest"
WASM_IMAGE = "docker.io/rune-test/wasm:latest"
WASM_VARIANT = {"module.wasm.image/variant": "compat-smart"}
HANDLER = "rune"
results = {"passed": 0, "failed": 0}


def report(line):
    print(line, flush=True)
    path = os.environ.get("RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def ok(name):
    results["passed"] += 1
    report(f"ok {name}")


def fail(name, reason):
    results["failed"] += 1
    report(f"FAIL {name}: {' '.join(str(reason).split())[:900]}")


class Cri:
    def __init__(self, socket, pb):
        self.pb = pb
        self.channel = grpc.insecure_channel("unix://" + socket)

    def __call__(self, method, request, timeout=60):
        response = getattr(self.pb, method + "Response")
        rpc = self.channel.unary_unary(
            "/runtime.v1.RuntimeService/" + method,
            request_serializer=request.SerializeToString,
            response_deserializer=response.FromString)
        return rpc(request, timeout=timeout)


def rpc_error(e):
    if isinstance(e, grpc.RpcError):
        return f"{e.code().name}: {e.details()}"
    return repr(e)


def wait_state(cri, pb, cid, state, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        st = cri("ContainerStatus", pb.ContainerStatusRequest(container_id=cid, verbose=True))
        if st.status.state == state or time.monotonic() > deadline:
            return st
        time.sleep(0.1)


def rune_list(rune, root):
    out = subprocess.run([rune, "--root", root, "list", "--format", "json"],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"rune list: exit {out.returncode}: {out.stderr.strip()}")
    return {c["id"]: c for c in (json.loads(out.stdout or "[]") or [])}


def main():
    ap = argparse.ArgumentParser()
    for a in ("socket", "gen", "rune", "rune-root", "logs", "cgroup-parent"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--systemd", action="store_true")
    ap.add_argument("--pal", help="an enclave runtime: the pod runs an enclave container too")
    ap.add_argument("--wasm-pal", help="rune's wasm engine: the pod runs the wasm image too, "
                    "plainly (annotated) and in an enclave (this engine as its runtime)")
    args = ap.parse_args()
    sys.path.insert(0, args.gen)
    import api_pb2 as pb  # noqa: E402 (generated at test time)

    cri = Cri(args.socket, pb)
    try:
        v = cri("Version", pb.VersionRequest(version="v1"), timeout=10)
        st = cri("Status", pb.StatusRequest(), timeout=10)
        ready = {c.type: c.status for c in st.status.conditions}
        if v.runtime_api_version != "v1" or not ready.get("RuntimeReady"):
            raise RuntimeError(f"version {v.runtime_api_version!r}, conditions {ready}")
        ok("cri-version")
    except Exception as e:  # noqa: BLE001 (any failure is the check's)
        fail("cri-version", rpc_error(e))
        return

    rune_pod(cri, pb, args)
    shared_pid_pod(cri, pb, args)


def sandbox_config(pb, args, name, pid_mode):
    """A pod as the kubelet asks for it. The pod shares the host's network (NODE): no CNI
    plugin is configured, as on a node whose network is not set up yet."""
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=name + "-uid", namespace="rune"),
        log_directory=os.path.join(args.logs, name),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=pod_cgroup_parent(args, name),
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pid_mode))))


def pod_cgroup_parent(args, name):
    """A cgroupfs path below the parent, or with systemd a slice below the parent's slice (a
    dash in a slice name means nesting, so the pod's own dashes become underscores)."""
    if args.systemd:
        return f"{args.cgroup_parent}-{name.replace('-', '_')}.slice"
    return f"{args.cgroup_parent}/{name}"


def container_cgroup(sandbox, cid, systemd):
    """The end of the container's cgroup path: cgroupfs's <parent>/<id>, systemd's
    <parent slice>/cri-containerd-<id>.scope."""
    if systemd:
        return f"{sandbox.linux.cgroup_parent}/cri-containerd-{cid}.scope"
    return f"{sandbox.linux.cgroup_parent}/{cid}"


MEMORY_LIMIT = 64 << 20


def check_systemd_limits(cid):
    """The container's scope is active, delegated, and systemd reports its memory limit."""
    unit = f"cri-containerd-{cid}.scope"
    def show(prop):
        return subprocess.run(["systemctl", "show", "-P", prop, unit], capture_output=True,
                              text=True).stdout.strip()
    got = (show("ActiveState"), show("Delegate"), show("MemoryMax"))
    if got != ("active", "yes", str(MEMORY_LIMIT)):
        raise RuntimeError(f"{unit}: ActiveState, Delegate, MemoryMax = {got}")


def run_sandbox(cri, pb, sandbox):
    return cri("RunPodSandbox", pb.RunPodSandboxRequest(config=sandbox,
                                                          runtime_handler=HANDLER)).pod_sandbox_id


def check_sandbox(cri, pb, args, pod):
    """The sandbox is ready and runs through rune."""
    ps = cri("PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=pod, verbose=True))
    info = json.loads(ps.info.get("info", "{}"))
    binary = info.get("runtimeOptions", {}).get("binary_name")
    live = rune_list(args.rune, args.rune_root)
    if ps.status.state != pb.SANDBOX_READY:
        raise RuntimeError(f"sandbox state {ps.status.state}")
    if binary != args.rune:
        raise RuntimeError(f"sandbox runtime binary {binary!r}, not {args.rune}")
    if live.get(pod, {}).get("status") != "running":
        raise RuntimeError(f"rune list under {args.rune_root} has no running {pod}: {list(live)}")


def create(cri, pb, pod, sandbox, name, command, pid_mode, env=(), image=IMAGE, annotations=None):
    envs = [pb.KeyValue(key="GREETING", value="hello")]
    envs += [pb.KeyValue(key=k, value=v) for k, v in env]
    cfg = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(image=image),
        command=command, envs=envs, annotations=annotations or {},
        log_path=f"{name}.log",
        linux=pb.LinuxContainerConfig(
            resources=pb.LinuxContainerResources(memory_limit_in_bytes=MEMORY_LIMIT),
            security_context=pb.LinuxContainerSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pid_mode))))
    return cri("CreateContainer", pb.CreateContainerRequest(
        pod_sandbox_id=pod, config=cfg, sandbox_config=sandbox)).container_id


def check_exited(cri, pb, args, sandbox, cid, name, code, stdout):
    """The container exited with `code`, its log holds `stdout`, and rune ran it."""
    st = wait_state(cri, pb, cid, pb.CONTAINER_EXITED)
    info = json.loads(st.info.get("info", "{}"))
    binary = info.get("runtimeOptions", {}).get("binary_name")
    if st.status.state != pb.CONTAINER_EXITED:
        raise RuntimeError(f"state {pb.ContainerState.Name(st.status.state)} after 20 s")
    if st.status.exit_code != code:
        raise RuntimeError(f"exit code {st.status.exit_code}, want {code}")
    if binary != args.rune:
        raise RuntimeError(f"runtime binary {binary!r}, not {args.rune}")
    log = open(os.path.join(sandbox.log_directory, f"{name}.log")).read()
    # CRI log lines: "<time> <stream> <F|P> <text>".
    lines = [line.split(" ", 3)[1:] for line in log.splitlines()]
    for want in stdout:
        if want not in lines:
            raise RuntimeError(f"log {log!r} lacks {' '.join(want)!r}")


def teardown(cri, pb, args, pod, containers, check):
    """Remove the containers and the pod as the kubelet does; rune's root must be empty."""
    errors = []
    for cid in containers:
        try:
            cri("RemoveContainer", pb.RemoveContainerRequest(container_id=cid))
        except Exception as e:  # noqa: BLE001
            errors.append(f"RemoveContainer {cid[:12]}: {rpc_error(e)}")
    for method in ("StopPodSandbox", "RemovePodSandbox"):
        try:
            cri(method, getattr(pb, method + "Request")(pod_sandbox_id=pod))
        except Exception as e:  # noqa: BLE001
            errors.append(f"{method}: {rpc_error(e)}")
    try:
        left = rune_list(args.rune, args.rune_root)
        if left:
            errors.append(f"rune list still shows {sorted(k[:12] for k in left)}")
    except Exception as e:  # noqa: BLE001
        errors.append(str(e))
    if errors:
        fail(check, "; ".join(errors))
    else:
        ok(check)


def rune_pod(cri, pb, args):
    """A pod with the kubelet's defaults (a PID namespace per container)."""
    sandbox = sandbox_config(pb, args, "rune-pod", pb.CONTAINER)
    try:
        pod = run_sandbox(cri, pb, sandbox)
    except Exception as e:  # noqa: BLE001
        fail("cri-sandbox", rpc_error(e))
        return
    containers = []
    try:
        try:
            check_sandbox(cri, pb, args, pod)
            ok("cri-sandbox")
        except Exception as e:  # noqa: BLE001
            fail("cri-sandbox", rpc_error(e))
        # A container that prints and exits 3: its exit code and log file, through rune.
        try:
            cid = create(cri, pb, pod, sandbox, "exits",
                         ["sh", "-c", 'echo "$GREETING from cri"; echo to-stderr >&2; exit 3'],
                         pb.CONTAINER)
            containers.append(cid)
            cri("StartContainer", pb.StartContainerRequest(container_id=cid))
            check_exited(cri, pb, args, sandbox, cid, "exits", 3,
                         [["stdout", "F", "hello from cri"], ["stderr", "F", "to-stderr"]])
            ok("cri-container-exit-code-and-log")
        except Exception as e:  # noqa: BLE001
            fail("cri-container-exit-code-and-log", rpc_error(e))

        # A long-running container: rune lists it, ExecSync runs in it, StopContainer ends it.
        try:
            cid = create(cri, pb, pod, sandbox, "sleeper",
                         ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"],
                         pb.CONTAINER)
            containers.append(cid)
            cri("StartContainer", pb.StartContainerRequest(container_id=cid))
            st = wait_state(cri, pb, cid, pb.CONTAINER_RUNNING)
            if st.status.state != pb.CONTAINER_RUNNING:
                raise RuntimeError(f"state {pb.ContainerState.Name(st.status.state)}")
            live = rune_list(args.rune, args.rune_root)
            pid = json.loads(st.info.get("info", "{}")).get("pid")
            if live.get(cid, {}).get("status") != "running" or live[cid].get("pid") != pid:
                raise RuntimeError(f"rune list: {live.get(cid)}, CRI pid {pid}")
            cgroup = open(f"/proc/{pid}/cgroup").read()
            if container_cgroup(sandbox, cid, args.systemd) not in cgroup:
                raise RuntimeError(f"cgroup of pid {pid}: {cgroup!r}")
            if args.systemd:
                check_systemd_limits(cid)
            listed = cri("ListContainers", pb.ListContainersRequest(
                filter=pb.ContainerFilter(pod_sandbox_id=pod))).containers
            states = {c.id: c.state for c in listed}
            if states.get(cid) != pb.CONTAINER_RUNNING or len(states) != 2:
                raise RuntimeError(f"ListContainers: {states}")
            ok("cri-container-running")
        except Exception as e:  # noqa: BLE001
            fail("cri-container-running", rpc_error(e))
            cid = None
        if cid:
            try:
                r = cri("ExecSync", pb.ExecSyncRequest(
                    container_id=cid, cmd=["sh", "-c", 'echo "exec $GREETING"; exit 5'], timeout=20))
                if r.exit_code != 5 or r.stdout != b"exec hello\n":
                    raise RuntimeError(f"exit {r.exit_code}, stdout {r.stdout!r}, stderr {r.stderr!r}")
                ok("cri-exec-sync")
            except Exception as e:  # noqa: BLE001
                fail("cri-exec-sync", rpc_error(e))
            try:
                cri("StopContainer", pb.StopContainerRequest(container_id=cid, timeout=10))
                st = wait_state(cri, pb, cid, pb.CONTAINER_EXITED, timeout=5)
                if st.status.state != pb.CONTAINER_EXITED or st.status.exit_code != 0:
                    raise RuntimeError(f"state {pb.ContainerState.Name(st.status.state)}, "
                                       f"exit code {st.status.exit_code} (want 0: TERM trapped)")
                if rune_list(args.rune, args.rune_root).get(cid, {}).get("status", "stopped") != "stopped":
                    raise RuntimeError("rune still lists it running")
                ok("cri-stop-container")
            except Exception as e:  # noqa: BLE001
                fail("cri-stop-container", rpc_error(e))
        if args.pal:
            enclave_container(cri, pb, args, pod, sandbox, containers)
        if args.wasm_pal:
            wasm_containers(cri, pb, args, pod, sandbox, containers)
    finally:
        teardown(cri, pb, args, pod, containers, "cri-teardown")


def enclave_container(cri, pb, args, pod, sandbox, containers):
    """A container whose variables make rune run it in an enclave (the PAL given): it runs,
    ExecSync runs in the enclave too (the PAL's trace counts it; rune's enclave variables are
    not in the process's environment), its limits are systemd's with --systemd, and
    StopContainer ends it."""
    try:
        env = [("ENCLAVE_TYPE", "sim"), ("ENCLAVE_RUNTIME_PATH", args.pal),
               ("ENCLAVE_RUNTIME_ARGS", "trace=/tmp/pal.trace")]
        cid = create(cri, pb, pod, sandbox, "enclave",
                     ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"],
                     pb.CONTAINER, env)
        containers.append(cid)
        cri("StartContainer", pb.StartContainerRequest(container_id=cid))
        st = wait_state(cri, pb, cid, pb.CONTAINER_RUNNING)
        if st.status.state != pb.CONTAINER_RUNNING:
            raise RuntimeError(f"state {pb.ContainerState.Name(st.status.state)}")
        if args.systemd:
            check_systemd_limits(cid)
        r = cri("ExecSync", pb.ExecSyncRequest(
            container_id=cid, cmd=["sh", "-c", 'echo "enclave ${ENCLAVE_TYPE:-unset}"; '
                                   'grep -c pal_create_process /tmp/pal.trace'], timeout=20))
        # Two pal_create_process calls in the PAL's trace: the entrypoint's and this exec's.
        if r.exit_code != 0 or r.stdout != b"enclave unset\n2\n":
            raise RuntimeError(f"exec: exit {r.exit_code}, stdout {r.stdout!r}, stderr {r.stderr!r}")
        cri("StopContainer", pb.StopContainerRequest(container_id=cid, timeout=10))
        st = wait_state(cri, pb, cid, pb.CONTAINER_EXITED, timeout=10)
        if st.status.state != pb.CONTAINER_EXITED:
            raise RuntimeError(f"after stop: {pb.ContainerState.Name(st.status.state)}")
        ok("cri-enclave-container")
    except Exception as e:  # noqa: BLE001
        fail("cri-enclave-container", rpc_error(e))


def wasm_containers(cri, pb, args, pod, sandbox, containers):
    """The wasm image (only /tool.wasm): with the variant annotation, which the CRI passes on,
    rune runs the module on its engine; with the enclave variables, in an enclave of that
    engine. Each prints its arguments and exits with `quit`'s code."""
    cases = (("cri-wasm-container", "wasm", {}, WASM_VARIANT),
             ("cri-wasm-enclave-container", "wasm-enclave",
              {"ENCLAVE_TYPE": "sim", "ENCLAVE_RUNTIME_PATH": args.wasm_pal}, None))
    for check, name, env, annotations in cases:
        try:
            cid = create(cri, pb, pod, sandbox, name, ["/tool.wasm", "args", f"{name} ok"],
                         pb.CONTAINER, env.items(), WASM_IMAGE, annotations)
            containers.append(cid)
            cri("StartContainer", pb.StartContainerRequest(container_id=cid))
            check_exited(cri, pb, args, sandbox, cid, name, 0, [["stdout", "F", f"{name} ok"]])
            ok(check)
        except Exception as e:  # noqa: BLE001
            fail(check, rpc_error(e))


def shared_pid_pod(cri, pb, args):
    """shareProcessNamespace: the containers join the sandbox's PID namespace by path. When the
    container's init ends, the shim runs `kill --all` on it (its processes share no PID
    namespace of their own), and containerd's delete kills it again."""
    sandbox = sandbox_config(pb, args, "shared-pid-pod", pb.POD)
    try:
        pod = run_sandbox(cri, pb, sandbox)
    except Exception as e:  # noqa: BLE001
        fail("cri-shared-pid", rpc_error(e))
        return
    containers = []
    try:
        check_sandbox(cri, pb, args, pod)
        cid = create(cri, pb, pod, sandbox, "sees-pause",
                     ["sh", "-c", "ps -o comm | grep -x sleep; exit 4"], pb.POD)
        containers.append(cid)
        cri("StartContainer", pb.StartContainerRequest(container_id=cid))
        check_exited(cri, pb, args, sandbox, cid, "sees-pause", 4, [["stdout", "F", "sleep"]])
        ok("cri-shared-pid")
    except Exception as e:  # noqa: BLE001
        fail("cri-shared-pid", rpc_error(e))
    finally:
        teardown(cri, pb, args, pod, containers, "cri-shared-pid-teardown")


if __name__ == "__main__":
    main()
    sys.exit(1 if results["failed"] else 0)
