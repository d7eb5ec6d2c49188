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
            "cgroup": {"v1": true, "v2": true, "systemd": true, "systemdUser": false, "rdma": false},
            "seccomp": {
                "enabled": cfg!(feature = "seccomp"),
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
                "operators": ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                              "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                "archs": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
                "knownFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                               "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
                "supportedFlags": supported_seccomp_flags()
            },
            "apparmor": {"enabled": true},
            "selinux": {"enabled": true},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": true}}
        },
        "annotations": {
            "org.opencontainers.runc.checkpoint.enabled": "false",
            "run.oci.rune.version": rune_core::VERSION,
            // What rune understands of a config's annotations, comma-separated (the features
            // document's annotations map strings to strings).
            "run.oci.rune.enclave.types": rune_core::enclave::type_names().join(","),
            "run.oci.rune.enclave.annotations": enclave_annotations().join(","),
            "run.oci.rune.enclave.exit-status": "code,wait-status"
        }
    });
    outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    Ok(0)
}

/// The enclave annotations rune reads, `enclave.attestation.*` among them.
fn enclave_annotations() -> Vec<&'static str> {
    let mut v = rune_core::enclave::ANNOTATIONS.to_vec();
    v.push("enclave.attestation.*");
    v
}

#[cfg(feature = "seccomp")]
fn supported_seccomp_flags() -> Vec<&'static str> {
    rune_core::security::seccomp::supported_flags()
}

#[cfg(not(feature = "seccomp"))]
fn supported_seccomp_flags() -> Vec<&'static str> {
    Vec::new()
}
