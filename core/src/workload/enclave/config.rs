//! Enclave settings: the `enclave.*` annotations, overridden by the process's `ENCLAVE_*`
//! variables (how `docker run -e` sets them), which are then removed from its environment.

use super::pal::ExitStatus;
use crate::err;
use crate::error::Result;
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnclaveType {
    IntelSgx,
    AwsNitroEnclaves,
    Jailhouse,
    /// No hardware: enclave runtimes built in simulation mode.
    Sim,
}

const TYPES: [(&str, EnclaveType); 4] = [
    ("intelSgx", EnclaveType::IntelSgx),
    ("awsNitroEnclaves", EnclaveType::AwsNitroEnclaves),
    ("jailhouse", EnclaveType::Jailhouse),
    ("sim", EnclaveType::Sim),
];

impl EnclaveType {
    pub fn parse(s: &str) -> Result<EnclaveType> {
        TYPES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let valid: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
                err!(
                    InvalidSpec,
                    "unknown enclave type {:?}: valid types are {}",
                    s,
                    valid.join(", ")
                )
            })
    }

    pub fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// What a container's enclave is, kept in its state for exec, kill, delete and attest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnclaveConfig {
    pub typ: EnclaveType,
    /// The PAL, a host path loaded by the init before it enters the container's root.
    pub runtime_path: PathBuf,
    /// `enclave.runtime.args`, comma-separated, joined by spaces for pal_init.
    pub args: String,
    pub log_level: String,
    /// `enclave.attestation.*` (and `ENCLAVE_RA_*`), passed through for attestation.
    #[serde(default)]
    pub attestation: HashMap<String, String>,
    /// The PAL's API version, known once the init loaded it.
    #[serde(default)]
    pub pal_version: u32,
    /// `enclave.runtime.exit-status` (`code` | `wait-status`): how the PAL's pal_exec reports
    /// an exit; unset, rune guesses from the PAL's exports (see `pal::convention`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<ExitStatus>,
}

/// The annotation that says how the PAL reports exit values (`code` | `wait-status`).
pub const EXIT_STATUS_ANNOTATION: &str = "enclave.runtime.exit-status";

/// Every annotation rune reads (`enclave.attestation.*` besides), for `rune features`.
pub const ANNOTATIONS: [&str; 5] = [
    "enclave.type",
    "enclave.runtime.path",
    "enclave.runtime.args",
    "enclave.runtime.loglevel",
    EXIT_STATUS_ANNOTATION,
];

/// The enclave type names, for `rune features`.
pub fn type_names() -> Vec<&'static str> {
    TYPES.iter().map(|(n, _)| *n).collect()
}

const LOG_LEVELS: [&str; 8] = [
    "trace", "debug", "info", "warning", "error", "fatal", "panic", "off",
];

impl EnclaveConfig {
    /// Reads the settings; `Ok(None)` for a plain container. Removes every `ENCLAVE_*`
    /// variable from the process environment of `spec`.
    pub fn from_spec(spec: &mut Spec) -> Result<Option<EnclaveConfig>> {
        let ann = spec.annotations().clone().unwrap_or_default();
        let mut env_vars: HashMap<String, String> = HashMap::new();
        if let Some(process) = spec.process_mut() {
            let env = process.env().clone().unwrap_or_default();
            let (enclave, rest): (Vec<String>, Vec<String>) =
                env.into_iter().partition(|e| e.starts_with("ENCLAVE_"));
            for e in &enclave {
                if let Some((k, v)) = e.split_once('=') {
                    env_vars.insert(k.to_string(), v.to_string());
                }
            }
            if !enclave.is_empty() {
                process.set_env(Some(rest));
            }
        }
        let get = |env: &str, key: &str| -> Option<String> {
            env_vars
                .get(env)
                .or_else(|| ann.get(key))
                .cloned()
                .filter(|v| !v.is_empty())
        };
        let typ = match get("ENCLAVE_TYPE", "enclave.type") {
            Some(t) => EnclaveType::parse(&t)?,
            None => return Ok(None),
        };
        let path = get("ENCLAVE_RUNTIME_PATH", "enclave.runtime.path").ok_or_else(|| {
            err!(
                InvalidSpec,
                "enclave type {} needs enclave.runtime.path (or ENCLAVE_RUNTIME_PATH)",
                typ.name()
            )
        })?;
        let args = get("ENCLAVE_RUNTIME_ARGS", "enclave.runtime.args")
            .map(|a| {
                a.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let level = get("ENCLAVE_RUNTIME_LOGLEVEL", "enclave.runtime.loglevel")
            .map(|l| l.to_ascii_lowercase())
            .filter(|l| LOG_LEVELS.contains(&l.as_str()))
            .unwrap_or_else(|| "info".into());
        let exit_status = get("ENCLAVE_RUNTIME_EXIT_STATUS", EXIT_STATUS_ANNOTATION)
            .map(|v| ExitStatus::parse(&v))
            .transpose()?;
        let mut attestation: HashMap<String, String> = ann
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("enclave.attestation.")
                    .map(|k| (k.to_string(), v.clone()))
            })
            .collect();
        for (k, v) in &env_vars {
            if let Some(rest) = k.strip_prefix("ENCLAVE_RA_") {
                attestation.insert(format!("ra_{}", rest.to_ascii_lowercase()), v.clone());
            }
        }
        Ok(Some(EnclaveConfig {
            typ,
            runtime_path: PathBuf::from(path),
            args,
            log_level: level,
            attestation,
            pal_version: 0,
            exit_status,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ann: &str, env: &str) -> Spec {
        serde_json::from_str(&format!(
            r#"{{"ociVersion":"1.2.0","process":{{"args":["sh"],"cwd":"/","user":{{"uid":0,"gid":0}},"env":{env}}},
               "root":{{"path":"rootfs"}},"annotations":{ann}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn plain_container_has_none() {
        let mut s = spec("{}", r#"["PATH=/bin"]"#);
        assert!(EnclaveConfig::from_spec(&mut s).unwrap().is_none());
    }

    #[test]
    fn env_overrides_annotations_and_is_removed() {
        let mut s = spec(
            r#"{"enclave.type":"intelSgx","enclave.runtime.path":"/a.so","enclave.runtime.args":"x, y"}"#,
            r#"["PATH=/bin","ENCLAVE_TYPE=sim","ENCLAVE_RUNTIME_LOGLEVEL=DEBUG","ENCLAVE_RA_TYPE=epid"]"#,
        );
        let c = EnclaveConfig::from_spec(&mut s).unwrap().unwrap();
        assert_eq!(c.typ, EnclaveType::Sim);
        assert_eq!(c.runtime_path, PathBuf::from("/a.so"));
        assert_eq!(c.args, "x y");
        assert_eq!(c.log_level, "debug");
        assert_eq!(
            c.attestation.get("ra_type").map(String::as_str),
            Some("epid")
        );
        assert_eq!(
            s.process().as_ref().unwrap().env().as_ref().unwrap(),
            &vec!["PATH=/bin".to_string()]
        );
    }

    #[test]
    fn unknown_type_lists_the_valid_ones() {
        let mut s = spec(
            r#"{"enclave.type":"foo","enclave.runtime.path":"/a.so"}"#,
            "[]",
        );
        let e = EnclaveConfig::from_spec(&mut s).unwrap_err().to_string();
        for t in ["intelSgx", "awsNitroEnclaves", "jailhouse", "sim"] {
            assert!(e.contains(t), "{e}");
        }
    }
}
