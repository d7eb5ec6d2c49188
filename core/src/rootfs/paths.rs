//! Paths inside the container's root, and the last touches after pivot_root: sysctls,
//! read-only and masked paths, the read-only root.

use crate::error::{Context, Error, Result};
use crate::sys::syscall::Syscall;
use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

/// After pivot_root: sysctls, read-only paths, masked paths, then the read-only root.
pub fn finish(os: &dyn Syscall, spec: &Spec) -> Result<()> {
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
        readonly_path(os, Path::new(p))?;
    }
    for p in linux
        .and_then(|l| l.masked_paths().as_ref())
        .into_iter()
        .flatten()
    {
        mask_path(os, Path::new(p))?;
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        let flags = os.mount_flags(Path::new("/"))?;
        os.mount(
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

fn readonly_path(os: &dyn Syscall, p: &Path) -> Result<()> {
    ignore_missing(os.mount(
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
    let flags = os.mount_flags(p)?;
    os.mount(
        None,
        p,
        None,
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | flags,
        None,
        &|| format!("remount {} read-only", p.display()),
    )
}

fn mask_path(os: &dyn Syscall, p: &Path) -> Result<()> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("mask {}", p.display()), e)),
    };
    if meta.is_dir() {
        os.mount(
            Some(Path::new("tmpfs")),
            p,
            Some("tmpfs"),
            libc::MS_RDONLY,
            None,
            &|| format!("mask directory {}", p.display()),
        )
    } else {
        os.mount(
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
    use super::*;
    use crate::rootfs::testing::{spec, Scratch};
    use crate::sys::syscall::{Call, Fake};

    const REMOUNT_RO: libc::c_ulong = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;

    fn paths_spec(s: &Scratch, readonly_root: bool) -> (Spec, [PathBuf; 3]) {
        let (dir, file, missing) = (s.dir.join("dir"), s.dir.join("file"), s.dir.join("none"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(&file, "").unwrap();
        let spec = spec(&format!(
            r#""root":{{"path":"rootfs","readonly":{readonly_root}}},
               "linux":{{"readonlyPaths":["{d}","{m}"],"maskedPaths":["{d}","{f}","{m}"]}}"#,
            d = dir.display(),
            f = file.display(),
            m = missing.display(),
        ));
        (spec, [dir, file, missing])
    }

    #[test]
    fn readonly_then_masked_paths_then_the_read_only_root() {
        let s = Scratch::new("finish");
        let (spec, [dir, file, missing]) = paths_spec(&s, true);
        let gone = missing.clone();
        let fake = Fake::new()
            .mount_flags_are(libc::MS_NOSUID)
            .fail(move |c| c.target() == Some(&gone), libc::ENOENT);
        finish(&fake, &spec).unwrap();
        let bind = libc::MS_BIND | libc::MS_REC;
        assert_eq!(
            fake.calls(),
            [
                // A read-only path: bound onto itself, remounted keeping its flags.
                Call::mount(Some(&dir), &dir, None, bind, None),
                Call::MountFlags(dir.clone()),
                Call::mount(None, &dir, None, REMOUNT_RO | libc::MS_NOSUID, None),
                // A missing one is passed over.
                Call::mount(Some(&missing), &missing, None, bind, None),
                // Masked: a directory under an empty read-only tmpfs, a file under /dev/null.
                Call::mount(
                    Some(Path::new("tmpfs")),
                    &dir,
                    Some("tmpfs"),
                    libc::MS_RDONLY,
                    None
                ),
                Call::mount(
                    Some(Path::new("/dev/null")),
                    &file,
                    None,
                    libc::MS_BIND,
                    None
                ),
                Call::MountFlags("/".into()),
                Call::mount(
                    None,
                    Path::new("/"),
                    None,
                    REMOUNT_RO | libc::MS_NOSUID,
                    None
                ),
            ]
        );
    }

    #[test]
    fn a_failed_mask_is_an_error_and_the_root_stays_writable() {
        let s = Scratch::new("finish-fail");
        let (spec, [dir, ..]) = paths_spec(&s, true);
        let masked = dir.clone();
        let fake = Fake::new().fail(
            move |c| matches!(c, Call::Mount { fstype: Some(_), target, .. } if *target == masked),
            libc::EPERM,
        );
        let e = finish(&fake, &spec).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EPERM));
        assert_eq!(
            e.message(),
            format!("mask directory {}: Operation not permitted", dir.display())
        );
        let root = Path::new("/");
        assert!(!fake.calls().iter().any(|c| c.target() == Some(root)));
    }
}
