//! `update`: changes the resource limits of a running container and records them.

use super::{Container, Status};
use crate::err;
use crate::error::Result;
use oci_spec::runtime::LinuxResources;

impl Container {
    pub fn update(&mut self, res: &LinuxResources) -> Result<()> {
        let dir = self.store.lock(self.id())?;
        self.state = dir.read_state()?;
        if self.status() == Status::Stopped {
            // runc's ErrNotRunning, as kill says it.
            return Err(err!(InvalidState, "container not running: {}", self.id()));
        }
        let path = self
            .state
            .cgroup_path
            .as_ref()
            .ok_or_else(|| err!(InvalidState, "container {} has no cgroup", self.id()))?;
        let recorded = self
            .state
            .config
            .linux()
            .as_ref()
            .and_then(|l| l.resources().clone());
        crate::cgroups::manager(path).update(&with_recorded_swap(res, recorded.as_ref()))?;
        let merged = merge(recorded, res);
        if let Some(linux) = self.state.config.linux_mut() {
            linux.set_resources(Some(merged));
        }
        dir.write_state(&self.state)
    }
}

/// A memory limit given without memory+swap keeps the recorded memory+swap, as runc applies
/// its whole merged record: on cgroup v2 the swap limit is then what is left of it above the
/// new memory limit (on v1, memory+swap is written again, unchanged). Not for a limit of -1,
/// which lifts memory+swap too (runc's fix-up: "unlimited memory, swap unset").
fn with_recorded_swap(res: &LinuxResources, recorded: Option<&LinuxResources>) -> LinuxResources {
    let mut r = res.clone();
    let swap = recorded
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.swap())
        .filter(|s| *s != 0);
    if let (Some(mut m), Some(swap)) = (*res.memory(), swap) {
        if limit_alone(&m) && m.limit() != Some(-1) {
            m.set_swap(Some(swap));
            r.set_memory(Some(m));
        }
    }
    r
}

/// A memory limit given without memory+swap.
fn limit_alone(m: &oci_spec::runtime::LinuxMemory) -> bool {
    m.limit().is_some() && m.swap().is_none()
}

/// The recorded resources with what the update gives, field by field (a memory limit alone
/// keeps the recorded swap and reservation, as runc's record does).
fn merge(old: Option<LinuxResources>, new: &LinuxResources) -> LinuxResources {
    let mut r = old.unwrap_or_default();
    if let Some(m) = new.memory() {
        let mut merged = overlay(r.memory().as_ref(), m);
        if limit_alone(m) && m.limit() == Some(-1) {
            // Memory+swap was lifted with it: nothing of the old one is kept.
            merged.set_swap(None);
        }
        r.set_memory(Some(merged));
    }
    if let Some(c) = new.cpu() {
        r.set_cpu(Some(overlay(r.cpu().as_ref(), c)));
    }
    if let Some(p) = new.pids() {
        r.set_pids(Some(overlay(r.pids().as_ref(), p)));
    }
    if let Some(b) = new.block_io() {
        r.set_block_io(Some(overlay(r.block_io().as_ref(), b)));
    }
    r
}

/// `new`'s fields over `old`'s (a field `new` leaves unset keeps `old`'s), through their JSON
/// forms: the spec's structs serialize set fields only.
fn overlay<T>(old: Option<&T>, new: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    let (Some(old), Ok(serde_json::Value::Object(fields))) = (old, serde_json::to_value(new))
    else {
        return new.clone();
    };
    let mut merged = match serde_json::to_value(old) {
        Ok(serde_json::Value::Object(o)) => o,
        _ => return new.clone(),
    };
    for (k, v) in fields {
        if !v.is_null() {
            merged.insert(k, v);
        }
    }
    serde_json::from_value(serde_json::Value::Object(merged)).unwrap_or_else(|_| new.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_record_keeps_what_an_update_leaves_unset() {
        let old = res(r#"{"memory":{"limit":256,"swap":512,"reservation":128},
                          "cpu":{"shares":512,"quota":50000}}"#);
        let m = merge(
            Some(old),
            &res(r#"{"memory":{"limit":128},"cpu":{"period":100000}}"#),
        );
        let mem = m.memory().unwrap();
        assert_eq!(
            (mem.limit(), mem.swap(), mem.reservation()),
            (Some(128), Some(512), Some(128))
        );
        let cpu = m.cpu().as_ref().unwrap();
        assert_eq!(
            (cpu.shares(), cpu.quota(), cpu.period()),
            (Some(512), Some(50000), Some(100000))
        );
    }

    #[test]
    fn a_memory_limit_alone_takes_the_recorded_memory_plus_swap() {
        let old = res(r#"{"memory":{"limit":256,"swap":512}}"#);
        let r = with_recorded_swap(&res(r#"{"memory":{"limit":128}}"#), Some(&old));
        assert_eq!(r.memory().unwrap().swap(), Some(512));
        // A swap given wins; no memory limit, no swap added; nothing recorded, nothing added.
        let r = with_recorded_swap(&res(r#"{"memory":{"limit":128,"swap":-1}}"#), Some(&old));
        assert_eq!(r.memory().unwrap().swap(), Some(-1));
        let r = with_recorded_swap(&res(r#"{"memory":{"reservation":64}}"#), Some(&old));
        assert_eq!(r.memory().unwrap().swap(), None);
        let r = with_recorded_swap(&res(r#"{"memory":{"limit":128}}"#), None);
        assert_eq!(r.memory().unwrap().swap(), None);
        // -1 lifts memory+swap as well: none is added, and the record forgets the old one.
        let lift = res(r#"{"memory":{"limit":-1}}"#);
        assert_eq!(
            with_recorded_swap(&lift, Some(&old))
                .memory()
                .unwrap()
                .swap(),
            None
        );
        assert_eq!(merge(Some(old), &lift).memory().unwrap().swap(), None);
    }
}
