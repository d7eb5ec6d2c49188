//! The blkio controller (v2: io): weights and throttles.

use super::{missing, nz, v2, write};
use crate::error::Result;
use cgroups_rs::blkio::BlkIoController;
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;

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
        if let Some(w) = weight {
            write(&dir, "io.weight", &format!("default {}", w))?;
        }
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
    if let Some(w) = weight {
        write(&dir, "blkio.weight", &w.to_string())?;
    }
    if let Some(w) = leaf {
        write(&dir, "blkio.leaf_weight", &w.to_string())?;
    }
    for d in b.weight_device().iter().flatten() {
        if let Some(w) = d.weight() {
            write(
                &dir,
                "blkio.weight_device",
                &format!("{}:{} {}", d.major(), d.minor(), w),
            )?;
        }
        if let Some(w) = d.leaf_weight() {
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
