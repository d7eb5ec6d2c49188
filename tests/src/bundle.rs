//! OCI bundles: a temp dir holding `config.json`, edited as a `serde_json::Value`.

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The spec `runc spec` writes (runc 1.1.5), verbatim.
pub fn default_spec() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runc",
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
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

/// A bundle directory with a unique container id and an editable spec.
///
/// Defaults on top of [`default_spec`]: `terminal: false`, `root.path` is the
/// absolute path of the shared rootfs (read-only), and `linux.cgroupsPath` is
/// `/rune-test/<id>` so leaked cgroups can be found.
pub struct Bundle {
    dir: TempDir,
    pub id: String,
    pub spec: Value,
}

impl Bundle {
    /// A bundle whose container id starts with `prefix`.
    pub fn new(prefix: &str) -> Bundle {
        let id = crate::unique_id(prefix);
        let dir = tempfile::Builder::new()
            .prefix(&format!("rune-bundle-{id}-"))
            .tempdir()
            .expect("bundle tempdir");
        let mut spec = default_spec();
        spec["process"]["terminal"] = json!(false);
        spec["root"]["path"] = json!(crate::rootfs().to_str().unwrap());
        spec["linux"]["cgroupsPath"] = json!(format!("/rune-test/{id}"));
        Bundle { dir, id, spec }
    }

    /// The bundle directory (absolute).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Path of a file inside the bundle directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `config.json` from the current spec (runners call this).
    pub fn write(&self) {
        let text = serde_json::to_string_pretty(&self.spec).unwrap();
        std::fs::write(self.file("config.json"), text).expect("write config.json");
    }

    /// Replace `config.json` with arbitrary bytes (for bad-input tests).
    pub fn write_raw(&self, text: &str) {
        std::fs::write(self.file("config.json"), text).expect("write config.json");
    }

    /// Set the value at a JSON pointer (`/process/cwd`), creating objects on the way.
    pub fn set(&mut self, pointer: &str, value: Value) -> &mut Self {
        set_pointer(&mut self.spec, pointer, value);
        self
    }

    /// Remove the value at a JSON pointer, if present.
    pub fn unset(&mut self, pointer: &str) -> &mut Self {
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        if let Some(Value::Object(m)) = self.spec.pointer_mut(parent) {
            m.remove(key);
        }
        self
    }

    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.set("/process/args", json!(args))
    }

    /// `sh -c <script>` as the container process.
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.args(&["sh", "-c", script])
    }

    /// Append `KEY=VALUE` to `process.env`.
    pub fn env(&mut self, kv: &str) -> &mut Self {
        self.array_push("/process/env", json!(kv))
    }

    pub fn cwd(&mut self, cwd: &str) -> &mut Self {
        self.set("/process/cwd", json!(cwd))
    }

    pub fn user(&mut self, uid: u32, gid: u32, additional_gids: &[u32]) -> &mut Self {
        let mut u = json!({"uid": uid, "gid": gid});
        if !additional_gids.is_empty() {
            u["additionalGids"] = json!(additional_gids);
        }
        self.set("/process/user", u)
    }

    pub fn terminal(&mut self, on: bool) -> &mut Self {
        self.set("/process/terminal", json!(on))
    }

    pub fn hostname(&mut self, name: &str) -> &mut Self {
        self.set("/hostname", json!(name))
    }

    pub fn readonly(&mut self, ro: bool) -> &mut Self {
        self.set("/root/readonly", json!(ro))
    }

    /// Append a mount entry.
    pub fn mount(&mut self, dest: &str, typ: &str, source: &str, options: &[&str]) -> &mut Self {
        let mut m = json!({"destination": dest, "type": typ, "source": source});
        if !options.is_empty() {
            m["options"] = json!(options);
        }
        self.array_push("/mounts", m)
    }

    /// Append a bind mount of a host path (`options` defaults to `["bind"]`).
    pub fn bind(&mut self, source: &Path, dest: &str, options: &[&str]) -> &mut Self {
        let src = source.to_str().unwrap().to_string();
        if options.is_empty() {
            self.mount(dest, "bind", &src, &["bind"])
        } else {
            self.mount(dest, "bind", &src, options)
        }
    }

    /// A writable tmpfs at `/tmp` (the rootfs itself is read-only).
    pub fn writable_tmp(&mut self) -> &mut Self {
        self.mount("/tmp", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=1777"])
    }

    /// Add (or replace) a namespace, optionally joining an existing one by path.
    /// A new user namespace mapping container ids 0..size to host ids host..host+size.
    pub fn user_namespace(&mut self, host: u32, size: u32) -> &mut Self {
        let map = json!([{"containerID": 0, "hostID": host, "size": size}]);
        self.namespace("user", None)
            .set("/linux/uidMappings", map.clone())
            .set("/linux/gidMappings", map)
    }

    pub fn namespace(&mut self, typ: &str, path: Option<&str>) -> &mut Self {
        self.remove_namespace(typ);
        let mut ns = json!({"type": typ});
        if let Some(p) = path {
            ns["path"] = json!(p);
        }
        self.array_push("/linux/namespaces", ns)
    }

    pub fn remove_namespace(&mut self, typ: &str) -> &mut Self {
        if let Some(Value::Array(a)) = self.spec.pointer_mut("/linux/namespaces") {
            a.retain(|n| n["type"] != typ);
        }
        self
    }

    pub fn has_namespace(&self, typ: &str) -> bool {
        self.spec["linux"]["namespaces"]
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n["type"] == typ))
    }

    pub fn sysctl(&mut self, key: &str, value: &str) -> &mut Self {
        let ptr = format!(
            "/linux/sysctl/{}",
            key.replace('~', "~0").replace('/', "~1")
        );
        self.set(&ptr, json!(value))
    }

    /// Append a hook of `kind` (`prestart`, `poststop`, ...).
    pub fn hook(&mut self, kind: &str, hook: Value) -> &mut Self {
        self.array_push(&format!("/hooks/{kind}"), hook)
    }

    /// `linux.cgroupsPath`, or `None` to drop it.
    pub fn cgroups_path(&mut self, path: Option<&str>) -> &mut Self {
        match path {
            Some(p) => self.set("/linux/cgroupsPath", json!(p)),
            None => self.unset("/linux/cgroupsPath"),
        }
    }

    /// The configured `linux.cgroupsPath`, if any.
    pub fn cgroups_path_value(&self) -> Option<String> {
        self.spec["linux"]["cgroupsPath"]
            .as_str()
            .map(str::to_string)
    }

    /// Push onto the array at `pointer`, creating it if needed.
    pub fn array_push(&mut self, pointer: &str, value: Value) -> &mut Self {
        if !self.spec.pointer(pointer).is_some_and(Value::is_array) {
            set_pointer(&mut self.spec, pointer, json!([]));
        }
        self.spec
            .pointer_mut(pointer)
            .and_then(Value::as_array_mut)
            .unwrap()
            .push(value);
        self
    }
}

/// Set `value` at a JSON pointer, creating intermediate objects.
pub fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let mut cur = root;
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, path) = parts.split_last().expect("non-empty pointer");
    for p in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .unwrap()
            .entry(p.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut().unwrap().insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_pointer_creates_objects_and_unescapes() {
        let mut v = json!({"a": 1});
        set_pointer(&mut v, "/b/c", json!(2));
        set_pointer(&mut v, "/s/net.ipv4.x~1y", json!("1"));
        assert_eq!(
            v,
            json!({"a": 1, "b": {"c": 2}, "s": {"net.ipv4.x/y": "1"}})
        );
        set_pointer(&mut v, "/a/z", json!(3));
        assert_eq!(v["a"], json!({"z": 3}));
    }

    #[test]
    fn default_spec_matches_runc_spec_shape() {
        let s = default_spec();
        assert_eq!(s["ociVersion"], "1.0.2-dev");
        assert_eq!(s["mounts"].as_array().unwrap().len(), 7);
        assert_eq!(s["linux"]["namespaces"].as_array().unwrap().len(), 5);
        assert_eq!(s["linux"]["maskedPaths"].as_array().unwrap().len(), 10);
    }
}
