//! The systemd driver: the container's cgroup is a transient unit (`<prefix>-<name>.scope`, or
//! a slice) that systemd makes, with `Delegate=true`, over D-Bus (`dbus.rs`, no threads); the
//! limits go as unit properties (`props.rs`), then to the files of the delegated cgroup
//! through the cgroupfs driver, which also does everything systemd has no call for (pids,
//! freezer, stats, sub-cgroups).

mod annotations;
pub mod dbus;
mod devices;
pub mod message;
pub mod props;
mod unit;
pub mod wire;

use super::{CgroupManager, CgroupPath, Cgroupfs, SystemdUnit};
use crate::error::{Error, Result};
use dbus::Connection;
use oci_spec::runtime::{LinuxResources, Spec};
use std::cell::{RefCell, RefMut};

/// True when systemd runs as pid 1 (what `sd_booted` checks).
pub fn running() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

/// A container's cgroup in a systemd unit.
pub struct Systemd {
    fs: Cgroupfs,
    unit: SystemdUnit,
    /// Connected when first needed, kept for the handle's life.
    bus: RefCell<Option<Connection>>,
}

impl Systemd {
    pub fn new(path: &CgroupPath, unit: SystemdUnit) -> Systemd {
        Systemd {
            fs: Cgroupfs::load(path),
            unit,
            bus: RefCell::new(None),
        }
    }

    fn bus(&self) -> Result<RefMut<'_, Connection>> {
        let mut slot = self.bus.borrow_mut();
        if slot.is_none() {
            *slot = Some(unit::connect()?);
        }
        Ok(RefMut::map(slot, |b| b.as_mut().expect("connected above")))
    }

    /// The unit's resource properties for this host and systemd's version.
    fn resource_props(
        &self,
        bus: &mut Connection,
        res: &LinuxResources,
    ) -> Result<Vec<wire::Value>> {
        let version = unit::version(bus);
        if cgroups_rs::hierarchies::is_cgroup2_unified_mode() {
            props::v2(res, version)
        } else {
            props::v1(res, version)
        }
    }
}

impl CgroupManager for Systemd {
    fn prepare(&self, _spec: &Spec) -> Result<Option<Vec<Error>>> {
        self.bus()?;
        self.fs.check_existing().map(Some)
    }

    fn enter(&self, pid: i32, spec: &Spec) -> Result<()> {
        {
            let mut bus = self.bus()?;
            let mut props = unit::base_props(&self.unit, pid);
            if let Some(res) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) {
                props.extend(self.resource_props(&mut bus, res)?);
            }
            let proc_devices = std::fs::read_to_string("/proc/devices").unwrap_or_default();
            props.extend(devices::properties(spec, &proc_devices));
            props.extend(annotations::properties(
                spec.annotations().as_ref().unwrap_or(&Default::default()),
            )?);
            unit::start(&mut bus, &self.unit.unit, props)?;
        }
        // The hierarchies systemd does not manage (v1: cpuset, freezer, ...), then the init
        // (already in the unit's own) and every limit, as the files have them.
        self.fs.make()?;
        self.fs.add(pid)?;
        self.fs.apply_spec(spec)
    }

    fn add(&self, pid: i32) -> Result<()> {
        self.fs.add(pid)
    }

    fn update(&self, res: &LinuxResources) -> Result<()> {
        {
            let mut bus = self.bus()?;
            let props = self.resource_props(&mut bus, res)?;
            unit::set_properties(&mut bus, &self.unit.unit, props)?;
        }
        self.fs.apply(res)
    }

    fn pids(&self) -> Vec<i32> {
        self.fs.pids()
    }

    fn freeze(&self) -> Result<()> {
        self.fs.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.fs.thaw()
    }

    fn is_frozen(&self) -> bool {
        self.fs.is_frozen()
    }

    fn stats(&self) -> serde_json::Value {
        self.fs.stats()
    }

    fn oom_kills(&self) -> u64 {
        self.fs.oom_kills()
    }

    /// Stops the unit (a failure is a warning) and resets it if it failed, then removes what
    /// is left of the cgroup.
    fn remove(&self) -> Result<Vec<Error>> {
        let mut warnings = Vec::new();
        match self.bus() {
            Ok(mut bus) => warnings.extend(unit::stop(&mut bus, &self.unit.unit).err()),
            Err(e) => warnings.push(e.context(format!("stop unit {}", self.unit.unit))),
        }
        self.fs.remove()?;
        Ok(warnings)
    }
}
