//! The mount steps against the recording kernel.

use super::*;
use crate::rootfs::testing::{spec, Scratch};
use crate::sys::syscall::{Call, Fake};

const INFO: &str = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:40 / /run/c\\040d rw shared:7 - tmpfs tmpfs rw
31 30 0:41 / /run/c\\040d/rootfs rw shared:9 master:2 - overlay overlay rw
32 30 0:42 / /run/c\\040d/rootfs rw master:3 - overlay overlay rw
40 22 0:43 / /var/lib rw - tmpfs tmpfs rw
";

#[test]
fn the_mount_holding_a_path() {
    let at = |p: &str| mount_holding(INFO, Path::new(p));
    // A rootfs that is a mount point itself: the top of the stacked mounts.
    assert_eq!(
        at("/run/c d/rootfs"),
        Some((PathBuf::from("/run/c d/rootfs"), false))
    );
    assert_eq!(at("/run/c d/x"), Some((PathBuf::from("/run/c d"), true)));
    // A prefix of the name is not a parent directory.
    assert_eq!(at("/var/library"), Some((PathBuf::from("/"), true)));
    assert_eq!(at("/var/lib/r"), Some((PathBuf::from("/var/lib"), false)));
}

fn mount_all_in(fake: &Fake, s: &Scratch, mounts: &str) -> Result<()> {
    let spec = spec(&format!(r#""mounts":{mounts}"#));
    mount_all(fake, &spec, &s.root, &s.dir, &[], &HashMap::new())
}

const NOSUID_NOEXEC_NODEV: libc::c_ulong = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;

#[test]
fn prepare_root_makes_a_shared_parent_private_before_binding_the_rootfs() {
    let fake = Fake::new().mountinfo_is(INFO);
    let rootfs = Path::new("/run/c d/bundle/rootfs");
    let spec = spec(r#""linux":{"rootfsPropagation":"rshared"}"#);
    prepare_root(&fake, &spec, rootfs).unwrap();
    assert_eq!(
        fake.calls(),
        [
            Call::mount(
                None,
                Path::new("/"),
                None,
                libc::MS_SHARED | libc::MS_REC,
                None
            ),
            // Read after / changed: the propagation it reports is the new one.
            Call::Mountinfo,
            Call::mount(None, Path::new("/run/c d"), None, libc::MS_PRIVATE, None),
            Call::mount(
                Some(rootfs),
                rootfs,
                None,
                libc::MS_BIND | libc::MS_REC,
                None
            ),
        ]
    );
}

/// The default propagation, rslave, leaves no mount shared: mountinfo (which lists every
/// mount of the host) is not read.
#[test]
fn after_rslave_no_mount_is_looked_up() {
    let fake = Fake::new().mountinfo_is(INFO);
    let rootfs = Path::new("/run/c d/bundle/rootfs");
    prepare_root(&fake, &spec(""), rootfs).unwrap();
    assert_eq!(
        fake.calls(),
        [
            Call::mount(
                None,
                Path::new("/"),
                None,
                libc::MS_SLAVE | libc::MS_REC,
                None
            ),
            Call::mount(
                Some(rootfs),
                rootfs,
                None,
                libc::MS_BIND | libc::MS_REC,
                None
            ),
        ]
    );
}

#[test]
fn an_unbindable_rootfs_propagation_is_private_until_the_pivot() {
    let fake = Fake::new().mountinfo_is(INFO);
    let spec = spec(r#""linux":{"rootfsPropagation":"runbindable"}"#);
    // The mount holding it (/var/lib) is not shared: nothing to make private.
    let rootfs = Path::new("/var/lib/rootfs");
    prepare_root(&fake, &spec, rootfs).unwrap();
    let flags: Vec<_> = fake
        .mounts()
        .iter()
        .map(|c| match c {
            Call::Mount { target, flags, .. } => (target.clone(), *flags),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        flags,
        [
            (PathBuf::from("/"), libc::MS_PRIVATE | libc::MS_REC),
            (rootfs.to_path_buf(), libc::MS_BIND | libc::MS_REC),
        ]
    );
}

#[test]
fn proc_and_a_dev_tmpfs_are_mounted_in_order_with_their_flags_and_data() {
    let (fake, s) = (Fake::new(), Scratch::new("mount-proc"));
    mount_all_in(
        &fake,
        &s,
        r#"[{"destination":"/proc","type":"proc","source":"proc",
             "options":["nosuid","noexec","nodev"]},
            {"destination":"/dev","type":"tmpfs","source":"tmpfs",
             "options":["nosuid","strictatime","mode=755","size=65536k"]}]"#,
    )
    .unwrap();
    assert_eq!(
        fake.calls(),
        [
            Call::mount(
                Some(Path::new("proc")),
                &s.inside("/proc"),
                Some("proc"),
                NOSUID_NOEXEC_NODEV,
                None
            ),
            Call::mount(
                Some(Path::new("tmpfs")),
                &s.inside("/dev"),
                Some("tmpfs"),
                libc::MS_NOSUID | libc::MS_STRICTATIME,
                Some("mode=755,size=65536k")
            ),
        ]
    );
    // The mount points were made inside the rootfs.
    assert!(s.inside("/proc").is_dir() && s.inside("/dev").is_dir());
}

/// Binds the bundle's directory `src` on /data with `options`; returns /data in the rootfs
/// and the bind mount(2) call expected first (a relative source is the bundle's).
fn bind_src(fake: &Fake, s: &Scratch, options: &str) -> (PathBuf, Call) {
    std::fs::create_dir(s.dir.join("src")).unwrap();
    let mounts =
        format!(r#"[{{"destination":"/data","type":"bind","source":"src","options":{options}}}]"#);
    mount_all_in(fake, s, &mounts).unwrap();
    let target = s.inside("/data");
    let rbind = libc::MS_BIND | libc::MS_REC;
    let bind = Call::mount(Some(&s.dir.join("src")), &target, None, rbind, None);
    (target, bind)
}

#[test]
fn a_bind_takes_ro_and_nosuid_by_a_remount_that_keeps_the_source_flags() {
    let s = Scratch::new("mount-bind");
    // The source is nodev and noexec (say, locked by a user namespace); `exec` clears one.
    let fake = Fake::new().mount_flags_are(libc::MS_NODEV | libc::MS_NOEXEC);
    let (target, bind) = bind_src(&fake, &s, r#"["rbind","ro","nosuid","exec"]"#);
    let remount = libc::MS_BIND | libc::MS_REMOUNT;
    let flags = remount | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    assert_eq!(
        fake.calls(),
        [
            bind,
            Call::MountFlags(target.clone()),
            Call::mount(None, &target, None, flags, None),
        ]
    );
}

#[test]
fn a_plain_bind_of_a_file_needs_no_remount() {
    let s = Scratch::new("mount-file");
    let src = s.dir.join("resolv.conf");
    std::fs::write(&src, "nameserver 10.0.0.1\n").unwrap();
    let fake = Fake::new();
    let mounts = format!(
        r#"[{{"destination":"/etc/resolv.conf","source":"{}","options":["bind"]}}]"#,
        src.display()
    );
    mount_all_in(&fake, &s, &mounts).unwrap();
    let target = s.inside("/etc/resolv.conf");
    assert_eq!(
        fake.calls(),
        [Call::mount(Some(&src), &target, None, libc::MS_BIND, None)]
    );
    // The destination was made as an empty file, not a directory.
    assert!(std::fs::metadata(&target).unwrap().is_file());
}

#[test]
fn propagation_then_recursive_options_follow_the_mount() {
    let (fake, s) = (Fake::new(), Scratch::new("mount-rec"));
    let (target, bind) = bind_src(&fake, &s, r#"["rbind","rro","rnosuid","rslave"]"#);
    assert_eq!(
        fake.calls(),
        [
            // rro and rnosuid are no mount(2) flags: no remount for them.
            bind,
            Call::mount(None, &target, None, libc::MS_SLAVE | libc::MS_REC, None),
            Call::MountSetattr {
                target: target.clone(),
                recursive: true,
                set: libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID,
                clear: 0,
            },
        ]
    );
}

#[test]
fn a_source_opened_by_create_is_attached_with_move_mount() {
    let s = Scratch::new("mount-tree");
    let src = s.dir.join("src");
    std::fs::create_dir(&src).unwrap();
    let fake = Fake::new();
    let spec = spec(
        r#""mounts":[{"destination":"/tmp","type":"tmpfs","source":"tmpfs"},
                     {"destination":"/data","source":"src","options":["bind","ro"]}]"#,
    );
    let tree = OwnedFd::from(std::fs::File::open(&src).unwrap());
    let sources = HashMap::from([(1, tree)]);
    mount_all(&fake, &spec, &s.root, &s.dir, &[], &sources).unwrap();
    let target = s.inside("/data");
    assert_eq!(
        fake.calls()[1..],
        [
            Call::MoveMount {
                tree: src,
                target: target.clone()
            },
            Call::MountFlags(target.clone()),
            Call::mount(
                None,
                &target,
                None,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                None
            ),
        ]
    );
}

#[test]
fn sysfs_refused_in_a_user_namespace_binds_the_hosts() {
    let s = Scratch::new("mount-sysfs");
    let fake = Fake::new().fail(
        |c| matches!(c, Call::Mount { fstype: Some(t), .. } if t == "sysfs"),
        libc::EPERM,
    );
    mount_all_in(
        &fake,
        &s,
        r#"[{"destination":"/sys","type":"sysfs","source":"sysfs",
             "options":["nosuid","noexec","nodev","ro"]}]"#,
    )
    .unwrap();
    let target = s.inside("/sys");
    let flags = NOSUID_NOEXEC_NODEV | libc::MS_RDONLY;
    assert_eq!(
        fake.mounts(),
        [
            Call::mount(
                Some(Path::new("sysfs")),
                &target,
                Some("sysfs"),
                flags,
                None
            ),
            // The bind itself is recursive only; its flags come by the remount.
            Call::mount(
                Some(Path::new("/sys")),
                &target,
                None,
                libc::MS_BIND | libc::MS_REC,
                None
            ),
            Call::mount(
                None,
                &target,
                None,
                libc::MS_BIND | libc::MS_REMOUNT | flags,
                None
            ),
        ]
    );
}

#[test]
fn a_failed_mount_names_it_and_stops_the_mounts_after_it() {
    let s = Scratch::new("mount-fail");
    let proc = s.inside("/proc");
    let fake = Fake::new().fail(move |c| c.target() == Some(&proc), libc::EBUSY);
    let e = mount_all_in(
        &fake,
        &s,
        r#"[{"destination":"/tmp","type":"tmpfs","source":"tmpfs"},
            {"destination":"/proc","type":"proc","source":"proc"},
            {"destination":"/dev","type":"tmpfs","source":"tmpfs"}]"#,
    )
    .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EBUSY));
    assert_eq!(
        e.message(),
        "mount /proc: mount /proc (proc): Device or resource busy"
    );
    let targets: Vec<_> = fake
        .calls()
        .iter()
        .map(|c| c.target().map(Path::to_path_buf))
        .collect();
    assert_eq!(targets, [Some(s.inside("/tmp")), Some(s.inside("/proc"))]);
    assert!(!s.inside("/dev").exists());
}

#[test]
fn bind_sources_are_the_binds_by_index_from_the_bundle() {
    let spec = spec(
        r#""mounts":[{"destination":"/proc","type":"proc","source":"proc"},
                     {"destination":"/a","source":"a","options":["rbind"]},
                     {"destination":"/b","type":"bind","source":"/srv/b"}]"#,
    );
    assert_eq!(
        bind_sources(&spec, Path::new("/bundle")),
        [
            (1, PathBuf::from("/bundle/a"), true),
            (2, PathBuf::from("/srv/b"), false)
        ]
    );
}
