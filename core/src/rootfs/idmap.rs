//! Idmapped bind mounts (`idmap`, `ridmap`, a mount's `uidMappings`/`gidMappings`), as
//! Kubernetes asks for them in user-namespace pods: `rune create` gives the detached copy of
//! the source it opens the mapping (mount_setattr(MOUNT_ATTR_IDMAP)), before the init attaches
//! it in the container.

use crate::err;
use crate::error::{Error, Result};
use oci_spec::runtime::{LinuxIdMapping, Mount, Spec};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Where a mount's id mapping comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// uid_map and gid_map texts: the mount's own mappings, or the container's new user
    /// namespace's where the mount names none.
    Maps { uid: String, gid: String },
    /// The user namespace the container joins, where the mount names no mappings.
    Userns(PathBuf),
}

/// What one idmapped mount asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    /// `ridmap`: every mount below the source (an `rbind`'s submounts) is mapped too.
    pub recursive: bool,
    pub mapping: Mapping,
}

/// The id mapping mount `m` asks for (None for an ordinary mount), or the error the spec asks
/// for. As runc reads the spec: mappings without the option mean `idmap`; without mappings the
/// container's user namespace gives them; a mapping needs both uid and gid mappings.
pub fn of(spec: &Spec, m: &Mount) -> Result<Option<IdMap>> {
    let opts = m.options().as_deref().unwrap_or(&[]);
    let option = opts
        .iter()
        .rev()
        .find(|o| *o == "idmap" || *o == "ridmap")
        .map(String::as_str);
    let own = m.uid_mappings().is_some() || m.gid_mappings().is_some();
    if option.is_none() && !own {
        return Ok(None);
    }
    let fail = |why: String| {
        err!(
            InvalidSpec,
            "config.json: mount {}: {}",
            m.destination().display(),
            why
        )
    };
    let what = match option {
        Some(o) => format!("option {:?}", o),
        None => "uidMappings/gidMappings".to_string(),
    };
    if !super::options::is_bind_mount(m) {
        return Err(fail(format!(
            "idmapped mounts ({}) are only supported for bind mounts",
            what
        )));
    }
    let mapping = if own {
        match (m.uid_mappings(), m.gid_mappings()) {
            (Some(u), Some(g)) if !u.is_empty() && !g.is_empty() => maps(u, g),
            _ => {
                return Err(fail(
                    "an idmapped mount needs both uidMappings and gidMappings, not empty".into(),
                ))
            }
        }
    } else {
        container_mapping(spec).ok_or_else(|| {
            fail(format!(
                "{} needs uidMappings and gidMappings on the mount, or a user namespace for \
                 the container to take them from",
                what
            ))
        })?
    };
    Ok(Some(IdMap {
        recursive: option == Some("ridmap"),
        mapping,
    }))
}

fn maps(uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> Mapping {
    Mapping::Maps {
        uid: crate::namespaces::map_text(uid),
        gid: crate::namespaces::map_text(gid),
    }
}

/// The container's user namespace as a mapping: the one it joins, or its own maps.
fn container_mapping(spec: &Spec) -> Option<Mapping> {
    use crate::namespaces::{listed, NsType};
    let (_, path) = listed(spec).into_iter().find(|(t, _)| *t == NsType::User)?;
    if let Some(p) = path {
        return Some(Mapping::Userns(p));
    }
    let linux = spec.linux().as_ref()?;
    match (linux.uid_mappings(), linux.gid_mappings()) {
        (Some(u), Some(g)) if !u.is_empty() && !g.is_empty() => Some(maps(u, g)),
        _ => None,
    }
}

/// User namespaces made for mappings, kept while the mounts of one container are given
/// theirs: mounts with the same mapping share one.
#[derive(Default)]
pub struct Namespaces {
    made: Vec<(Mapping, OwnedFd)>,
}

impl Namespaces {
    fn get(&mut self, mapping: &Mapping) -> Result<&OwnedFd> {
        if let Some(i) = self.made.iter().position(|(m, _)| m == mapping) {
            return Ok(&self.made[i].1);
        }
        let fd = match mapping {
            Mapping::Maps { uid, gid } => crate::sys::userns::with_maps(uid, gid)?,
            Mapping::Userns(p) => std::fs::File::open(p)
                .map_err(|e| Error::io(format!("open user namespace {}", p.display()), e))?
                .into(),
        };
        self.made.push((mapping.clone(), fd));
        Ok(&self.made.last().expect("just pushed").1)
    }
}

/// A detached copy of the mount at `source` (with its submounts when `recursive`) with the
/// mapping `map` asks for, to be attached in the container.
pub fn open(source: &Path, recursive: bool, map: &IdMap, ns: &mut Namespaces) -> Result<OwnedFd> {
    if crate::sys::euid() != 0 {
        return Err(err!(
            PermissionDenied,
            "idmapped mount of {}: needs rune to run as root (mount_setattr(MOUNT_ATTR_IDMAP) \
             needs CAP_SYS_ADMIN over the source's filesystem; runc refuses it for rootless \
             containers too)",
            source.display()
        ));
    }
    let tree = crate::sys::open_tree_clone(source, recursive)?;
    let userns = ns.get(&map.mapping)?;
    crate::sys::userns::idmap_mount(tree.as_raw_fd(), map.recursive, userns.as_raw_fd())
        .map_err(|e| explain(e, source))?;
    Ok(tree)
}

/// The kernel's EINVAL here mostly means a filesystem that cannot be idmapped.
fn explain(e: std::io::Error, source: &Path) -> Error {
    let what = format!(
        "idmapped mount of {}: mount_setattr(MOUNT_ATTR_IDMAP)",
        source.display()
    );
    let errno = e.raw_os_error();
    let hint = match errno {
        Some(libc::EINVAL) => {
            " (the filesystem it is on cannot be idmapped on this kernel, or the source is \
             already an idmapped mount)"
        }
        Some(libc::ENOSYS) => " (needs Linux 5.12 or later)",
        _ => "",
    };
    let base = Error::io(what, e);
    Error::new(base.kind(), format!("{}{}", base.message(), hint)).with_errno(errno)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::testing::spec;

    fn mount(json: &str) -> Mount {
        serde_json::from_str(json).unwrap()
    }

    const USERNS: &str = r#""linux":{"namespaces":[{"type":"mount"},{"type":"user"}],
        "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
        "gidMappings":[{"containerID":0,"hostID":200000,"size":65536}]}"#;

    #[test]
    fn an_ordinary_mount_has_no_mapping() {
        let m = mount(r#"{"destination":"/v","type":"bind","source":"/x","options":["rbind"]}"#);
        assert_eq!(of(&spec(USERNS), &m).unwrap(), None);
    }

    #[test]
    fn idmap_takes_the_containers_maps_where_the_mount_names_none() {
        let m = mount(r#"{"destination":"/v","source":"/x","options":["rbind","idmap"]}"#);
        let got = of(&spec(USERNS), &m).unwrap().unwrap();
        assert!(!got.recursive);
        assert_eq!(
            got.mapping,
            Mapping::Maps {
                uid: "0 100000 65536\n".into(),
                gid: "0 200000 65536\n".into()
            }
        );
    }

    #[test]
    fn the_mounts_own_maps_win_and_ridmap_is_recursive() {
        let m = mount(
            r#"{"destination":"/v","source":"/x","options":["rbind","ridmap"],
            "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
            "gidMappings":[{"containerID":0,"hostID":2000,"size":2}]}"#,
        );
        let got = of(&spec(USERNS), &m).unwrap().unwrap();
        assert!(got.recursive);
        assert_eq!(
            got.mapping,
            Mapping::Maps {
                uid: "0 1000 1\n".into(),
                gid: "0 2000 2\n".into()
            }
        );
    }

    #[test]
    fn mappings_without_the_option_mean_idmap_even_without_a_user_namespace() {
        let m = mount(
            r#"{"destination":"/v","source":"/x","type":"bind",
            "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
            "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}"#,
        );
        let got = of(&spec(r#""linux":{}"#), &m).unwrap().unwrap();
        assert!(!got.recursive);
    }

    #[test]
    fn a_joined_user_namespace_gives_its_path() {
        let s = spec(r#""linux":{"namespaces":[{"type":"user","path":"/proc/1/ns/user"}]}"#);
        let m = mount(r#"{"destination":"/v","source":"/x","options":["bind","idmap"]}"#);
        assert_eq!(
            of(&s, &m).unwrap().unwrap().mapping,
            Mapping::Userns("/proc/1/ns/user".into())
        );
    }

    #[test]
    fn the_errors_the_spec_asks_for() {
        let no_userns = r#""linux":{"namespaces":[{"type":"mount"}]}"#;
        let cases = [
            (
                no_userns,
                r#"{"destination":"/v","source":"/x","options":["rbind","idmap"]}"#,
                "mount /v: option \"idmap\" needs uidMappings",
            ),
            (
                USERNS,
                r#"{"destination":"/t","type":"tmpfs","source":"tmpfs","options":["idmap"]}"#,
                "only supported for bind mounts",
            ),
            (
                USERNS,
                r#"{"destination":"/v","source":"/x","options":["bind"],
                    "uidMappings":[{"containerID":0,"hostID":1000,"size":1}]}"#,
                "both uidMappings and gidMappings",
            ),
            (
                USERNS,
                r#"{"destination":"/v","source":"/x","options":["bind"],
                    "uidMappings":[],"gidMappings":[]}"#,
                "both uidMappings and gidMappings, not empty",
            ),
        ];
        for (linux, m, want) in cases {
            let e = of(&spec(linux), &mount(m)).unwrap_err();
            assert!(e.message().contains(want), "{m}: {e}");
        }
    }

    #[test]
    fn einval_names_the_filesystem() {
        let e = explain(
            std::io::Error::from_raw_os_error(libc::EINVAL),
            Path::new("/proc"),
        );
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert!(e.message().contains("idmapped mount of /proc"), "{e}");
        assert!(
            e.message().contains("cannot be idmapped on this kernel"),
            "{e}"
        );
    }
}
