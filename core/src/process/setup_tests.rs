//! The init's root switch without a mount namespace of its own, against the recording kernel.

use super::*;
use crate::process::message::WorkloadConfig;
use crate::sys::syscall::{Call, Fake};

fn create_config(rootfs: &str) -> CreateConfig {
    CreateConfig {
        common: Common {
            spec: Default::default(),
            rootfs: rootfs.into(),
            join: Vec::new(),
            unshare_flags: 0,
            preserve_fds: 0,
            extra_env: Vec::new(),
        },
        id: "c".into(),
        bundle: "/b".into(),
        no_pivot: false,
        no_new_keyring: true,
        workload: WorkloadConfig::Native,
        cgroup_paths: Default::default(),
        bind_fds: Vec::new(),
    }
}

#[test]
fn without_a_mount_namespace_the_rootfs_is_bound_onto_itself_then_chrooted() {
    let fake = Fake::new();
    enter_root(&fake, &create_config("/r"), false).unwrap();
    let root = Path::new("/r");
    assert_eq!(
        fake.calls(),
        vec![
            Call::mount(Some(root), root, None, libc::MS_BIND | libc::MS_REC, None),
            Call::Chroot(root.into()),
            Call::Chdir("/".into()),
        ]
    );
}

#[test]
fn a_refused_chroot_is_named_and_nothing_follows() {
    let fake = Fake::new().fail(|c| matches!(c, Call::Chroot(_)), libc::EPERM);
    let e = enter_root(&fake, &create_config("/r"), false).unwrap_err();
    assert!(e.message().starts_with("chroot into the rootfs"), "{}", e);
    assert!(!fake.calls().contains(&Call::Chdir("/".into())));
}
