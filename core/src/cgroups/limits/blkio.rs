//! The blkio controller (v2: io): weights and throttles.

use super::{missing, nz, v2, write};
use crate::err;
use crate::error::Result;
use cgroups_rs::blkio::BlkIoController;
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::Controller;
use oci_spec::runtime::{LinuxResources, LinuxWeightDevice};
use std::path::Path;

pub(super) fn blkio(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let b = match res.block_io() {
        Some(b) => b,
        None => return Ok(()),
    };
    fn empty<T>(v: &Option<Vec<T>>) -> bool {
        v.as_ref().is_none_or(|v| v.is_empty())
    }
    let (weight, leaf) = (nz(b.weight()), nz(b.leaf_weight()));
    let set = weight.is_some()
        || leaf.is_some()
        || !empty(b.weight_device())
        || !empty(b.throttle_read_bps_device())
        || !empty(b.throttle_write_bps_device())
        || !empty(b.throttle_read_iops_device())
        || !empty(b.throttle_write_iops_device());
    if !set {
        return Ok(());
    }
    let bc: &BlkIoController = cg
        .controller_of()
        .ok_or_else(|| missing("blkio", "a block I/O limit"))?;
    let dir = bc.path().to_path_buf();
    if v2(cg) {
        weights_v2(&dir, weight, b.weight_device())?;
        for (list, key) in [
            (b.throttle_read_bps_device(), "rbps"),
            (b.throttle_write_bps_device(), "wbps"),
            (b.throttle_read_iops_device(), "riops"),
            (b.throttle_write_iops_device(), "wiops"),
        ] {
            for d in list.iter().flatten() {
                write(
                    &dir,
                    "io.max",
                    &format!("{}:{} {}={}", d.major(), d.minor(), key, d.rate()),
                )?;
            }
        }
        return Ok(());
    }
    let devices = b.weight_device().iter().flatten();
    let wants_weight = weight.is_some() || devices.clone().any(|d| nz(d.weight()).is_some());
    if wants_weight {
        let (weight_file, device_file) = weight_files_v1(&dir)?;
        if let Some(w) = weight {
            write(&dir, weight_file, &w.to_string())?;
        }
        for d in devices.clone() {
            if let Some(w) = nz(d.weight()) {
                write(
                    &dir,
                    device_file,
                    &format!("{}:{} {}", d.major(), d.minor(), w),
                )?;
            }
        }
    }
    if let Some(w) = leaf {
        write(&dir, "blkio.leaf_weight", &w.to_string())?;
    }
    for d in devices {
        if let Some(w) = nz(d.leaf_weight()) {
            write(
                &dir,
                "blkio.leaf_weight_device",
                &format!("{}:{} {}", d.major(), d.minor(), w),
            )?;
        }
    }
    for (list, file) in [
        (
            b.throttle_read_bps_device(),
            "blkio.throttle.read_bps_device",
        ),
        (
            b.throttle_write_bps_device(),
            "blkio.throttle.write_bps_device",
        ),
        (
            b.throttle_read_iops_device(),
            "blkio.throttle.read_iops_device",
        ),
        (
            b.throttle_write_iops_device(),
            "blkio.throttle.write_iops_device",
        ),
    ] {
        for d in list.iter().flatten() {
            write(
                &dir,
                file,
                &format!("{}:{} {}", d.major(), d.minor(), d.rate()),
            )?;
        }
    }
    Ok(())
}

/// The v1 weight files: CFQ's `blkio.weight` and `blkio.weight_device`, or, on kernels with
/// only the BFQ scheduler (blk-mq, 5.0 on), `blkio.bfq.weight` and `blkio.bfq.weight_device`,
/// as runc picks them.
fn weight_files_v1(dir: &Path) -> Result<(&'static str, &'static str)> {
    if dir.join("blkio.weight").exists() {
        Ok(("blkio.weight", "blkio.weight_device"))
    } else if dir.join("blkio.bfq.weight").exists() {
        Ok(("blkio.bfq.weight", "blkio.bfq.weight_device"))
    } else {
        Err(err!(
            InvalidSpec,
            "cgroup: {} has neither blkio.weight nor blkio.bfq.weight: this kernel has no \
             block I/O weights (CFQ or BFQ)",
            dir.display()
        ))
    }
}

/// v2: BFQ's `io.bfq.weight` takes the blkio weight (10 to 1000) as it is and the per-device
/// weights; without BFQ the weight goes to `io.weight` (1 to 10000) converted as runc does.
fn weights_v2(
    dir: &Path,
    weight: Option<u16>,
    devices: &Option<Vec<LinuxWeightDevice>>,
) -> Result<()> {
    let bfq = dir.join("io.bfq.weight").exists();
    if let Some(w) = weight {
        if bfq {
            write(dir, "io.bfq.weight", &w.to_string())?;
        } else {
            let v = 1 + (u64::from(w).clamp(10, 1000) - 10) * 9999 / 990;
            write(dir, "io.weight", &format!("default {}", v))?;
        }
    }
    for d in devices.iter().flatten() {
        if let Some(w) = nz(d.weight()) {
            // No BFQ: the missing file is the error.
            write(
                dir,
                "io.bfq.weight",
                &format!("{}:{} {}", d.major(), d.minor(), w),
            )?;
        }
    }
    Ok(())
}
