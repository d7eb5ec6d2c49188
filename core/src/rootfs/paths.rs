//! Paths inside the container's root, and the last touches after pivot_root: sysctls,
//! read-only and masked paths, the read-only root.

use crate::error::{Context, Error, Result};
use crate::sys;
use oci_spec::runtime::Spec;
use std::path::{Component, Path, PathBuf};

/// Joins `path` onto `root` resolving symlinks as if `root` were `/`, so the result never
/// leaves `root` (what filepath-securejoin does for runc).
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    let mut todo: Vec<std::ffi::OsString> = components(path);
    todo.reverse();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            out.pop();
            continue;
        }
        let candidate = out.join(&c);
        let full = root.join(&candidate);
        match std::fs::symlink_metadata(&full) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 255 {
                    return Err(crate::err!(
                        InvalidSpec,
                        "too many symlinks under {}",
                        path.display()
                    ));
                }
                let target = std::fs::read_link(&full)
                    .with_context(|| format!("readlink {}", full.display()))?;
                if target.is_absolute() {
                    out = PathBuf::new();
                }
                let mut t = components(&target);
                t.reverse();
                todo.extend(t);
            }
            _ => out = candidate,
        }
    }
    Ok(root.join(out))
}

fn components(p: &Path) -> Vec<std::ffi::OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// After pivot_root: sysctls, read-only paths, masked paths, then the read-only root.
pub fn finish(spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    if let Some(sysctl) = linux.and_then(|l| l.sysctl().as_ref()) {
        for (k, v) in sysctl {
            let p = PathBuf::from("/proc/sys").join(k.replace('.', "/"));
            std::fs::write(&p, v.as_bytes()).with_context(|| format!("set sysctl {}={}", k, v))?;
        }
    }
    for p in linux
        .and_then(|l| l.readonly_paths().as_ref())
        .into_iter()
        .flatten()
    {
        readonly_path(Path::new(p))?;
    }
    for p in linux
        .and_then(|l| l.masked_paths().as_ref())
        .into_iter()
        .flatten()
    {
        mask_path(Path::new(p))?;
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        let flags = sys::mount_flags(Path::new("/"))?;
        sys::mount(
            None,
            Path::new("/"),
            None,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | flags,
            None,
            &|| "remount the root read-only".into(),
        )?;
    }
    Ok(())
}

fn ignore_missing(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.errno() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
}

fn readonly_path(p: &Path) -> Result<()> {
    ignore_missing(sys::mount(
        Some(p),
        p,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
        &|| format!("bind read-only path {}", p.display()),
    ))?;
    if !p.exists() {
        return Ok(());
    }
    let flags = sys::mount_flags(p)?;
    sys::mount(
        None,
        p,
        None,
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | flags,
        None,
        &|| format!("remount {} read-only", p.display()),
    )
}

fn mask_path(p: &Path) -> Result<()> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("mask {}", p.display()), e)),
    };
    if meta.is_dir() {
        sys::mount(
            Some(Path::new("tmpfs")),
            p,
            Some("tmpfs"),
            libc::MS_RDONLY,
            None,
            &|| format!("mask directory {}", p.display()),
        )
    } else {
        sys::mount(
            Some(Path::new("/dev/null")),
            p,
            None,
            libc::MS_BIND,
            None,
            &|| format!("mask {}", p.display()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_in_root;
    use std::path::Path;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let d = std::env::temp_dir().join(format!("rune-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("real")).unwrap();
        std::os::unix::fs::symlink("/etc", d.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../real", d.join("rel")).unwrap();
        assert_eq!(
            resolve_in_root(&d, Path::new("/abs/passwd")).unwrap(),
            d.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(&d, Path::new("/rel/x")).unwrap(),
            d.join("real/x")
        );
        assert_eq!(
            resolve_in_root(&d, Path::new("/../../x")).unwrap(),
            d.join("x")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
