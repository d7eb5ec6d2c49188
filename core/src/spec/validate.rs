//! Cross-field rules of config.md and config-linux.md that serde cannot check.

use crate::err;
use crate::error::Result;
use oci_spec::runtime::{Linux, LinuxNamespace, LinuxNamespaceType, Process, Spec};
use std::collections::HashSet;

/// Checks a spec before anything is created for it.
pub fn validate(spec: &Spec) -> Result<()> {
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "config.json: process is missing"))?;
    validate_process(process, "config.json: process")?;
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| err!(InvalidSpec, "config.json: linux is missing"))?;
    let namespaces = linux.namespaces().clone().unwrap_or_default();
    let seen = check_namespaces(&namespaces)?;
    let has = |t: LinuxNamespaceType| seen.contains(&t);
    check_mount_namespace(spec, has(LinuxNamespaceType::Mount))?;
    if let Some(res) = linux.resources() {
        crate::cgroups::check_resources(res)?;
    }
    check_uts_names(spec, has(LinuxNamespaceType::Uts))?;
    check_user_mappings(linux, &namespaces, has(LinuxNamespaceType::User))?;
    check_net_devices(linux, has(LinuxNamespaceType::Network))?;
    if let Some(sysctl) = linux.sysctl() {
        for key in sysctl.keys() {
            check_sysctl(key, &has)?;
        }
    }
    check_mounts(spec)?;
    crate::security::process_attrs::check_lsm(process, linux.mount_label().as_deref())?;
    check_version(spec.version())?;
    check_hooks(spec)?;
    check_rootfs_propagation(linux)
}

/// Each namespace type at most once, a path only absolute: the set of types listed.
fn check_namespaces(namespaces: &[LinuxNamespace]) -> Result<HashSet<LinuxNamespaceType>> {
    let mut seen = HashSet::new();
    for ns in namespaces {
        if !seen.insert(ns.typ()) {
            return Err(err!(
                InvalidSpec,
                "config.json: namespace {:?} listed twice",
                ns.typ()
            ));
        }
        if let Some(p) = ns.path() {
            if !p.is_absolute() {
                return Err(err!(
                    InvalidSpec,
                    "config.json: namespace path {} is not absolute",
                    p.display()
                ));
            }
        }
    }
    Ok(seen)
}

/// A hostname or domainname needs a private UTS namespace.
fn check_uts_names(spec: &Spec, has_uts: bool) -> Result<()> {
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty()) && !has_uts {
        return Err(err!(
            InvalidSpec,
            "config.json: unable to set hostname without a private UTS namespace"
        ));
    }
    if spec.domainname().as_deref().is_some_and(|h| !h.is_empty()) && !has_uts {
        return Err(err!(
            InvalidSpec,
            "config.json: unable to set domainname without a private UTS namespace"
        ));
    }
    Ok(())
}

/// A new user namespace needs both mappings; uid mappings need a user namespace.
fn check_user_mappings(linux: &Linux, namespaces: &[LinuxNamespace], has_user: bool) -> Result<()> {
    let new_user = namespaces
        .iter()
        .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_none());
    let has_maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
        && linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    if new_user && !has_maps {
        return Err(err!(
            InvalidSpec,
            "config.json: a new user namespace needs linux.uidMappings and linux.gidMappings"
        ));
    }
    if !has_user && (linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())) {
        return Err(err!(
            InvalidSpec,
            "config.json: uidMappings given without a user namespace"
        ));
    }
    Ok(())
}

/// Network devices are moved into the container's own network namespace: it needs one.
fn check_net_devices(linux: &Linux, has_network: bool) -> Result<()> {
    if linux.net_devices().as_ref().is_some_and(|d| !d.is_empty()) && !has_network {
        return Err(err!(
            InvalidSpec,
            "config.json: linux.netDevices needs a network namespace"
        ));
    }
    Ok(())
}

/// Mount destinations are absolute, and an idmapped mount asks for what can be done.
fn check_mounts(spec: &Spec) -> Result<()> {
    for m in spec.mounts().iter().flatten() {
        if !m.destination().is_absolute() {
            return Err(err!(
                InvalidSpec,
                "config.json: mount destination {} is not absolute",
                m.destination().display()
            ));
        }
        crate::rootfs::idmap::of(spec, m)?;
    }
    Ok(())
}

/// rootfsPropagation, when given, is one rune knows.
fn check_rootfs_propagation(linux: &Linux) -> Result<()> {
    if let Some(p) = linux.rootfs_propagation() {
        if crate::rootfs::propagation_flag(p).is_none() {
            return Err(err!(
                InvalidSpec,
                "config.json: unknown rootfsPropagation {:?}",
                p
            ));
        }
    }
    Ok(())
}

/// The rules every process obeys, the config's and each `exec`'s: `what` names it in errors.
pub fn validate_process(process: &Process, what: &str) -> Result<()> {
    match process.args() {
        Some(args) if !args.is_empty() && !args[0].is_empty() => {}
        _ => return Err(err!(InvalidSpec, "{}.args must not be empty", what)),
    }
    if !process.cwd().is_absolute() {
        return Err(err!(
            InvalidSpec,
            "{}.cwd {:?} is not an absolute path",
            what,
            process.cwd()
        ));
    }
    if let Some(env) = process.env() {
        if let Some(bad) = env.iter().find(|e| !e.contains('=')) {
            return Err(err!(InvalidSpec, "{}.env entry {:?} has no '='", what, bad));
        }
    }
    Ok(())
}

/// Without a private mount namespace rune's mounts would land in the host's (runc refuses too).
fn check_mount_namespace(spec: &Spec, has_mount: bool) -> Result<()> {
    if has_mount {
        return Ok(());
    }
    let linux = spec.linux().as_ref();
    let given = |v: Option<&Vec<String>>| v.is_some_and(|v| !v.is_empty());
    if given(linux.and_then(|l| l.masked_paths().as_ref()))
        || given(linux.and_then(|l| l.readonly_paths().as_ref()))
    {
        return Err(err!(
            InvalidSpec,
            "config.json: linux.maskedPaths and linux.readonlyPaths need a private mount \
             namespace (add a \"mount\" namespace or remove them)"
        ));
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        return Err(err!(
            InvalidSpec,
            "config.json: root.readonly needs a private mount namespace"
        ));
    }
    Ok(())
}

/// ociVersion is SemVer 2.0.0 (config.md): MAJOR.MINOR.PATCH, then an optional -pre-release
/// and +build of dot-separated [0-9A-Za-z-] identifiers.
fn check_version(v: &str) -> Result<()> {
    let (core, build) = match v.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let number = |n: &str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    let idents = |s: &str| {
        s.split('.')
            .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() == 3
        && parts.iter().all(|p| number(p))
        && pre.is_none_or(idents)
        && build.is_none_or(idents)
    {
        return Ok(());
    }
    Err(err!(
        InvalidSpec,
        "config.json: ociVersion {:?} is not a SemVer version (such as 1.2.0)",
        v
    ))
}

/// A hook's timeout, when set, is greater than zero (config.md).
fn check_hooks(spec: &Spec) -> Result<()> {
    use crate::hooks::Point;
    for point in Point::ALL {
        for h in point.of(spec) {
            if h.timeout().is_some_and(|t| t <= 0) {
                return Err(err!(
                    InvalidSpec,
                    "config.json: {} hook {}: timeout must be greater than zero",
                    point.name(),
                    h.path().display()
                ));
            }
        }
    }
    Ok(())
}

/// runc's rule: a sysctl may only be set when the container owns the namespace it belongs to.
fn check_sysctl(key: &str, has: &dyn Fn(LinuxNamespaceType) -> bool) -> Result<()> {
    let ipc = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let ok = if ipc.contains(&key) || key.starts_with("fs.mqueue.") {
        has(LinuxNamespaceType::Ipc)
    } else if key.starts_with("net.") {
        has(LinuxNamespaceType::Network)
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        has(LinuxNamespaceType::Uts)
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(err!(
            InvalidSpec,
            "config.json: sysctl {:?} is not in a separate kernel namespace of the container",
            key
        ))
    }
}
