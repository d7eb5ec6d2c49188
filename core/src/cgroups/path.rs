//! Where a container's cgroup is: the cleaned `cgroupsPath` (absolute from each hierarchy's
//! root, or relative to rune's own cgroup as runc places it), or the systemd form.

use crate::err;
use crate::error::Result;
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
/// Where a container's cgroup is: `path` below each hierarchy's root, or, for a relative
/// `cgroupsPath` (and the default, the container id), below rune's own cgroup in each v1
/// hierarchy (`parents`, per controller), as runc does.
/// With `systemd` set, the cgroup is a systemd unit's (made by the systemd driver); state files
/// written before the field existed load as cgroupfs ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupPath {
    pub path: String,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub parents: HashMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systemd: Option<SystemdUnit>,
}

/// The systemd unit that holds a container's cgroup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemdUnit {
    /// `<prefix>-<name>.scope`, or `<name>` when it ends in `.slice`.
    pub unit: String,
    /// The parent slice (`Slice=` of a scope, `Wants=` of a slice).
    pub slice: String,
}

impl SystemdUnit {
    pub fn is_slice(&self) -> bool {
        self.unit.ends_with(".slice")
    }
}

/// The systemd form `slice:prefix:name` (empty: `system.slice:rune:<id>`) as the unit and its
/// cgroupfs path, absolute from each hierarchy's root.
pub fn systemd(given: &str, id: &str) -> Result<CgroupPath> {
    let (path, unit) = systemd_parts(given, id)?;
    Ok(CgroupPath {
        path,
        parents: HashMap::new(),
        systemd: Some(unit),
    })
}

/// The systemd form `slice:prefix:name` as a cgroupfs path: `system.slice:docker:abc` is
/// `system.slice/docker-abc.scope`, a nested slice `a-b.slice` is `a.slice/a-b.slice`.
pub fn systemd_path(given: &str, id: &str) -> Result<String> {
    systemd_parts(given, id).map(|(path, _)| path)
}

fn systemd_parts(given: &str, id: &str) -> Result<(String, SystemdUnit)> {
    let parts: Vec<&str> = given.split(':').collect();
    let (slice, prefix, name) = match parts.as_slice() {
        [s, p, n] => (*s, *p, *n),
        [""] => ("", "rune", id),
        _ => {
            return Err(err!(
                InvalidSpec,
                "--systemd-cgroup: cgroupsPath {:?} is not slice:prefix:name",
                given
            ))
        }
    };
    let slice = if slice.is_empty() {
        "system.slice"
    } else {
        slice
    };
    if !slice.ends_with(".slice") || slice.contains('/') {
        return Err(err!(
            InvalidSpec,
            "--systemd-cgroup: invalid slice {:?}",
            slice
        ));
    }
    let stem = slice.trim_end_matches(".slice");
    let mut dirs = Vec::new();
    let mut acc = String::new();
    // `-.slice` is the root: no directory of its own.
    let parts = if stem == "-" { "" } else { stem };
    for (i, part) in parts.split('-').enumerate().filter(|_| !parts.is_empty()) {
        if part.is_empty() {
            return Err(err!(
                InvalidSpec,
                "--systemd-cgroup: invalid slice {:?}",
                slice
            ));
        }
        if i > 0 {
            acc.push('-');
        }
        acc.push_str(part);
        dirs.push(format!("{}.slice", acc));
    }
    if [prefix, name]
        .iter()
        .any(|p| p.contains('/') || *p == "." || *p == "..")
    {
        return Err(err!(
            InvalidSpec,
            "--systemd-cgroup: cgroupsPath {:?}: prefix and name must be plain names",
            given
        ));
    }
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{}.scope", name)
    } else {
        format!("{}-{}.scope", prefix, name)
    };
    if name.is_empty() || unit.contains('\\') {
        return Err(err!(
            InvalidSpec,
            "--systemd-cgroup: cgroupsPath {:?}: invalid unit name {:?}",
            given,
            unit
        ));
    }
    dirs.push(unit.clone());
    let slice = slice.to_string();
    Ok((dirs.join("/"), SystemdUnit { unit, slice }))
}

/// A cgroupsPath cleaned lexically as if it stood at `/` (runc's CleanPath): `.` and empty
/// parts go, `..` goes up but never above the root, so the result stays inside each hierarchy
/// (or, relative, inside rune's own cgroup). Returned without a leading `/`.
pub fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Where the container's cgroup goes: the cleaned `cgroupsPath`, absolute from each
/// hierarchy's root or relative to rune's own cgroup, else the id.
pub fn path_for(spec: &Spec, id: &str) -> CgroupPath {
    let given = spec
        .linux()
        .as_ref()
        .and_then(|l| l.cgroups_path().as_ref())
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.is_empty());
    match given {
        Some(p) if p.starts_with('/') => CgroupPath {
            path: clean_path(&p),
            ..Default::default()
        },
        other => {
            let rel = clean_path(&other.unwrap_or_else(|| id.to_string()));
            let parents = cgroups_rs::cgroup::get_cgroups_relative_paths().unwrap_or_default();
            if cgroups_rs::hierarchies::is_cgroup2_unified_mode() {
                return CgroupPath {
                    path: relative_v2(parents.get("").map(String::as_str), &rel),
                    ..Default::default()
                };
            }
            CgroupPath {
                path: rel,
                parents,
                systemd: None,
            }
        }
    }
}

/// A relative cgroupsPath on a pure cgroup v2 host, as runc places it: below the parent of
/// rune's own cgroup (which most probably holds processes, rune's own among them, and so could
/// not hand controllers down to a child: cgroup v2 has no processes beside child cgroups that
/// use controllers). Returned absolute from the root, without the leading `/`.
fn relative_v2(own: Option<&str>, rel: &str) -> String {
    let own = clean_path(own.unwrap_or("/"));
    let parent = own.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    clean_path(&format!("{}/{}", parent, rel))
}

impl std::fmt::Display for CgroupPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self
            .parents
            .get("memory")
            .filter(|p| !p.trim_matches('/').is_empty())
        {
            Some(parent) => write!(f, "{}/{}", parent.trim_end_matches('/'), self.path),
            None => write!(f, "/{}", self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cgroups_paths_are_cleaned_inside_the_hierarchy() {
        use super::clean_path;
        assert_eq!(clean_path("/x/../../../../../tmp/y"), "tmp/y");
        assert_eq!(clean_path("../../etc"), "etc");
        assert_eq!(clean_path("/a/./b//c/"), "a/b/c");
        assert_eq!(clean_path("/.."), "");
        assert_eq!(clean_path("a/b/../c"), "a/c");
        assert!(super::systemd_path("system.slice:p:../../x", "i").is_err());
        assert!(super::systemd_path("system.slice:..:x", "i").is_err());
    }

    #[test]
    fn relative_paths_on_v2_go_below_the_parent_of_runes_cgroup() {
        use super::relative_v2;
        assert_eq!(
            relative_v2(Some("/system.slice/x.service"), "rune-test/c"),
            "system.slice/rune-test/c"
        );
        assert_eq!(
            relative_v2(Some("/user.slice/user-0.slice/session-1.scope"), "c"),
            "user.slice/user-0.slice/c"
        );
        assert_eq!(relative_v2(Some("/"), "c"), "c");
        assert_eq!(relative_v2(Some("/init.scope"), "a/b"), "a/b");
        assert_eq!(relative_v2(None, "c"), "c");
    }

    #[test]
    fn systemd_paths() {
        assert_eq!(
            super::systemd_path("system.slice:docker:abc", "x").unwrap(),
            "system.slice/docker-abc.scope"
        );
        assert_eq!(
            super::systemd_path("a-b.slice:p:n", "x").unwrap(),
            "a.slice/a-b.slice/p-n.scope"
        );
        assert_eq!(
            super::systemd_path("", "ctr").unwrap(),
            "system.slice/rune-ctr.scope"
        );
        assert!(super::systemd_path("/abs/path", "x").is_err());
        assert!(super::systemd_path("a--b.slice:p:n", "x").is_err());
        assert!(super::systemd_path("-a.slice:p:n", "x").is_err());
        assert!(super::systemd_path("system.slice:p:", "x").is_err());
        assert_eq!(
            super::systemd_path("-.slice:p:n", "x").unwrap(),
            "p-n.scope"
        );
    }

    #[test]
    fn systemd_units() {
        let p = super::systemd("", "ctr").unwrap();
        let u = p.systemd.unwrap();
        assert_eq!(
            (u.unit.as_str(), u.slice.as_str()),
            ("rune-ctr.scope", "system.slice")
        );
        assert!(!u.is_slice());
        let p = super::systemd("a-b.slice:p:inner.slice", "x").unwrap();
        assert_eq!(p.path, "a.slice/a-b.slice/inner.slice");
        let u = p.systemd.unwrap();
        assert_eq!(
            (u.unit.as_str(), u.slice.as_str()),
            ("inner.slice", "a-b.slice")
        );
        assert!(u.is_slice());
        let u = super::systemd("machine.slice::n", "x")
            .unwrap()
            .systemd
            .unwrap();
        assert_eq!(u.unit, "n.scope");
    }

    #[test]
    fn old_state_files_load_as_cgroupfs() {
        let p: super::CgroupPath = serde_json::from_str(r#"{"path":"a/b"}"#).unwrap();
        assert!(p.systemd.is_none());
        let s = serde_json::to_string(&p).unwrap();
        assert_eq!(s, r#"{"path":"a/b"}"#);
        let p = super::systemd("", "c").unwrap();
        let back: super::CgroupPath =
            serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
