//! The host devices each enclave type needs, added to the container's devices and device
//! cgroup rules; for SGX also the AESM service's socket folder.

use super::{EnclaveConfig, EnclaveType};
use crate::err;
use crate::error::Result;
use oci_spec::runtime::{
    LinuxDeviceBuilder, LinuxDeviceCgroupBuilder, LinuxDeviceType, MountBuilder, Spec,
};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Candidate node sets per type: the first set whose first node exists is used.
fn candidates(t: EnclaveType) -> &'static [&'static [&'static str]] {
    match t {
        EnclaveType::IntelSgx => &[
            &["/dev/sgx_enclave", "/dev/sgx_provision"],
            &["/dev/sgx/enclave", "/dev/sgx/provision"],
            &["/dev/isgx"],
        ],
        EnclaveType::AwsNitroEnclaves => &[&["/dev/nitro_enclaves"]],
        EnclaveType::Jailhouse => &[&["/dev/jailhouse"]],
        EnclaveType::Sim => &[],
    }
}

const AESMD: &str = "/var/run/aesmd";

/// Adds the enclave type's device nodes (and, for SGX, the AESM socket folder) to `spec`.
pub fn add_devices(spec: &mut Spec, cfg: &EnclaveConfig) -> Result<()> {
    let sets = candidates(cfg.typ);
    if sets.is_empty() {
        return Ok(());
    }
    let set = sets
        .iter()
        .find(|s| Path::new(s[0]).exists())
        .ok_or_else(|| {
            let all: Vec<&str> = sets.iter().flat_map(|s| s.iter().copied()).collect();
            err!(
                NotFound,
                "enclave type {}: no device found on this host (looked for {})",
                cfg.typ.name(),
                all.join(", ")
            )
        })?;
    let linux = spec.linux_mut().get_or_insert_with(Default::default);
    let mut devices = linux.devices().clone().unwrap_or_default();
    let mut resources = linux.resources().clone().unwrap_or_default();
    let mut rules = resources.devices().clone().unwrap_or_default();
    for node in set.iter().filter(|n| Path::new(n).exists()) {
        let meta =
            std::fs::metadata(node).map_err(|e| crate::Error::io(format!("stat {}", node), e))?;
        let typ = if meta.file_type().is_block_device() {
            LinuxDeviceType::B
        } else {
            LinuxDeviceType::C
        };
        let (major, minor) = (
            crate::sys::devnum::major(meta.rdev()) as i64,
            crate::sys::devnum::minor(meta.rdev()) as i64,
        );
        let bad = |e: oci_spec::OciSpecError| err!(Internal, "device {}: {}", node, e);
        devices.retain(|d| d.path() != Path::new(node));
        devices.push(
            LinuxDeviceBuilder::default()
                .path(*node)
                .typ(typ)
                .major(major)
                .minor(minor)
                .file_mode(meta.mode() & 0o777)
                .uid(0u32)
                .gid(0u32)
                .build()
                .map_err(bad)?,
        );
        rules.push(
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .typ(typ)
                .major(major)
                .minor(minor)
                .access("rwm")
                .build()
                .map_err(bad)?,
        );
    }
    linux.set_devices(Some(devices));
    resources.set_devices(Some(rules));
    linux.set_resources(Some(resources));
    if cfg.typ == EnclaveType::IntelSgx && Path::new(AESMD).is_dir() {
        let mut mounts = spec.mounts().clone().unwrap_or_default();
        mounts.push(
            MountBuilder::default()
                .destination(AESMD)
                .typ("bind")
                .source(AESMD)
                .options(vec!["rbind".to_string(), "rprivate".to_string()])
                .build()
                .map_err(|e| err!(Internal, "aesmd mount: {}", e))?,
        );
        spec.set_mounts(Some(mounts));
    }
    Ok(())
}
