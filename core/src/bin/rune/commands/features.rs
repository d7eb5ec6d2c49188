//! `features`: the runtime-spec features document, listing only what rune really does.

use crate::CmdResult;
use rune_core::rootfs::options::KNOWN;
use rune_core::security::capabilities::NAMES;
use serde_json::json;

pub fn run() -> CmdResult {
    let doc = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": rune_core::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": KNOWN,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": NAMES.to_vec(),
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false},
            "seccomp": {"enabled": false},
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": false}}
        },
        "annotations": {
            "org.opencontainers.runc.checkpoint.enabled": "false",
            "run.oci.rune.version": rune_core::VERSION
        }
    });
    outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    Ok(0)
}
