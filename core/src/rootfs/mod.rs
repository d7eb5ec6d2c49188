//! The container's root filesystem: mounts, devices, pivot_root, masked and read-only paths.

pub(crate) mod cgroupfs;
mod copyup;
mod devices;
pub mod idmap;
mod inroot;
mod mounts;
pub mod options;
mod paths;
mod pivot;
mod recursive;

pub use devices::setup_dev;
pub use mounts::{bind_sources, finish_dev, mount_all, prepare_root};
pub use paths::finish;
pub use pivot::enter;

/// The mount(2) flags of a propagation option (also used for `rootfsPropagation`).
pub fn propagation_flag(s: &str) -> Option<libc::c_ulong> {
    Some(match s {
        "private" => libc::MS_PRIVATE,
        "rprivate" => libc::MS_PRIVATE | libc::MS_REC,
        "shared" => libc::MS_SHARED,
        "rshared" => libc::MS_SHARED | libc::MS_REC,
        "slave" => libc::MS_SLAVE,
        "rslave" => libc::MS_SLAVE | libc::MS_REC,
        "unbindable" => libc::MS_UNBINDABLE,
        "runbindable" => libc::MS_UNBINDABLE | libc::MS_REC,
        _ => return None,
    })
}

/// Applies `rootfsPropagation` to the new root once it is `/` (e.g. `shared` puts the root
/// mount in a peer group, as the spec asks).
pub fn set_root_propagation(
    os: &dyn crate::sys::syscall::Syscall,
    spec: &oci_spec::runtime::Spec,
) -> crate::Result<()> {
    let prop = spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().as_deref())
        .and_then(propagation_flag);
    match prop {
        Some(p) => os.mount(None, std::path::Path::new("/"), None, p, None, &|| {
            "set rootfsPropagation on /".into()
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::syscall::{Call, Fake};
    use std::path::Path;

    #[test]
    fn root_propagation_is_set_on_the_new_root_only_when_asked() {
        let fake = Fake::new();
        let spec = testing::spec(r#""linux":{"rootfsPropagation":"rshared"}"#);
        set_root_propagation(&fake, &spec).unwrap();
        let flags = libc::MS_SHARED | libc::MS_REC;
        assert_eq!(
            fake.calls(),
            [Call::mount(None, Path::new("/"), None, flags, None)]
        );
        let fake = Fake::new();
        set_root_propagation(&fake, &testing::spec(r#""linux":{}"#)).unwrap();
        assert_eq!(fake.calls(), []);
    }
}
