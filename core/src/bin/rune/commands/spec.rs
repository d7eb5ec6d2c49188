//! `spec`: writes runc's starter config.json (hostname "rune").

use crate::cli::SpecArgs;
use crate::CmdResult;
use rune_core::{err, Error};
use serde_json::{json, Value};

pub fn default_spec() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": rune_core::OCI_VERSION,
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "rune",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

/// runc's rootless changes: a user namespace mapping the caller to root, no network
/// namespace, /sys bound from the host, no devpts gid option, no cgroup limits.
fn make_rootless(spec: &mut Value) {
    let (uid, gid) = (rune_core::sys::uid(), rune_core::sys::gid());
    let linux = &mut spec["linux"];
    linux["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
    linux["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    let ns: Vec<Value> = linux["namespaces"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n["type"] != "network" && n["type"] != "cgroup")
        .chain(std::iter::once(json!({"type": "user"})))
        .collect();
    linux["namespaces"] = json!(ns);
    if let Some(obj) = linux.as_object_mut() {
        obj.remove("resources");
    }
    let mounts: Vec<Value> = spec["mounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["destination"] != "/sys/fs/cgroup")
        .map(|mut m| {
            if m["destination"] == "/sys" {
                m = json!({"destination": "/sys", "type": "none", "source": "/sys",
                           "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
            }
            if m["destination"] == "/dev/pts" {
                m["options"] = json!([
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620"
                ]);
            }
            m
        })
        .collect();
    spec["mounts"] = json!(mounts);
}

/// The enclave.* annotations from `--enclave-*` options (none: a plain runc spec).
fn add_enclave(spec: &mut Value, a: &SpecArgs) -> rune_core::Result<()> {
    let t = match &a.enclave_type {
        Some(t) => rune_core::enclave::EnclaveType::parse(t)?,
        None => {
            if a.enclave_path.is_some()
                || a.enclave_args.is_some()
                || a.enclave_loglevel.is_some()
                || a.enclave_exit_status.is_some()
            {
                return Err(err!(
                    InvalidArgument,
                    "--enclave-path, --enclave-args, --enclave-loglevel and --enclave-exit-status \
                     need --enclave-type"
                ));
            }
            return Ok(());
        }
    };
    let path = a.enclave_path.as_ref().ok_or_else(|| {
        err!(
            InvalidArgument,
            "--enclave-type needs --enclave-path (the enclave runtime library)"
        )
    })?;
    let mut ann = serde_json::Map::new();
    ann.insert("enclave.type".into(), json!(t.name()));
    ann.insert("enclave.runtime.path".into(), json!(path));
    if let Some(args) = &a.enclave_args {
        ann.insert("enclave.runtime.args".into(), json!(args));
    }
    ann.insert(
        "enclave.runtime.loglevel".into(),
        json!(a.enclave_loglevel.as_deref().unwrap_or("info")),
    );
    if let Some(v) = &a.enclave_exit_status {
        rune_core::enclave::pal::ExitStatus::parse(v)?;
        ann.insert(rune_core::enclave::EXIT_STATUS_ANNOTATION.into(), json!(v));
    }
    spec["annotations"] = Value::Object(ann);
    Ok(())
}

pub fn run(a: SpecArgs) -> CmdResult {
    let dir = a.bundle.clone().unwrap_or_else(|| ".".into());
    if !dir.is_dir() {
        return Err(err!(NotFound, "bundle {} does not exist", dir.display()));
    }
    let path = dir.join("config.json");
    if path.exists() {
        return Err(err!(
            AlreadyExists,
            "File {} exists. Remove it first",
            path.display()
        ));
    }
    let mut spec = default_spec();
    if a.rootless {
        make_rootless(&mut spec);
    }
    add_enclave(&mut spec, &a)?;
    let text = serde_json::to_string_pretty(&spec).unwrap_or_default();
    // A fresh config.json may get secrets added: 0644 as runc's, but not the umask's choice.
    let mut f = rune_core::files::create(&path, 0o644)?;
    std::io::Write::write_all(&mut f, (text + "\n").as_bytes())
        .map_err(|e| Error::io(format!("write {}", path.display()), e))?;
    Ok(0)
}
