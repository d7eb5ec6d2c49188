//! `linux.rootfsPropagation`: the propagation of the container's root mount, and the root's
//! preparation on hosts whose mounts are shared.

use rune_integration::*;
use std::ffi::OsString;

/// The propagation tags of the container's / (the optional fields of mountinfo, between the
/// options, field 6, and " - ") with `rootfsPropagation` set to `prop`.
fn root_propagation_tags(prop: &str) -> Vec<String> {
    let mut b = Bundle::new("prop");
    b.set("/linux/rootfsPropagation", json!(prop));
    let out = run_in(&mut b, "cat /proc/self/mountinfo");
    propagation_tags(mountinfo_line(&out, "/"))
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn rootfs_propagation_private() {
    let tags = root_propagation_tags("private");
    assert!(
        tags.is_empty(),
        "private root has propagation tags: {tags:?}"
    );
}

#[test]
fn rootfs_propagation_shared() {
    let tags = root_propagation_tags("shared");
    assert!(
        tags.iter().any(|o| o.starts_with("shared:")),
        "rootfsPropagation=shared: the rootfs mount should be in a peer group: {tags:?}"
    );
}

/// The rootfs is bound onto itself and readonlyPaths are bound too before / becomes
/// unbindable.
#[test]
fn rootfs_propagation_unbindable() {
    for prop in ["unbindable", "runbindable"] {
        let tags = root_propagation_tags(prop);
        assert_eq!(tags, ["unbindable"], "{prop}");
    }
}

/// As Kubernetes' CRI mount-propagation test runs it: a host whose mounts are shared
/// (systemd's default; here a mount namespace of the runtime's own with / rshared), the rootfs
/// a mount point of its own (as containerd's snapshots are), rootfsPropagation rshared and an
/// rshared bind mount. pivot_root refuses a shared new root, so the mount holding the rootfs
/// must be made private first, whatever the propagation asked for.
#[test]
fn rshared_root_on_a_shared_host_with_an_rshared_bind() {
    let rune = Rune::new();
    let host = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("rshared");
    let root = b.file("rootfs");
    std::fs::create_dir(&root).unwrap();
    b.set(
        "/root",
        json!({"path": root.to_str().unwrap(), "readonly": true}),
    )
    .set("/linux/rootfsPropagation", json!("rshared"))
    .bind(host.path(), "/mnt/a", &["rbind", "rshared"])
    .sh("cat /proc/self/mountinfo");
    b.write();
    rune.track(&b.id);
    // Run as: sh -c SCRIPT sh ROOTFS_SOURCE ROOTFS <rune> --root R run --bundle B ID
    let script = r#"mount --bind "$1" "$2" && mount --make-shared "$2" && shift 2 && exec "$@""#;
    let shared_host: Vec<OsString> = ["unshare", "--mount", "--propagation", "shared"]
        .iter()
        .map(OsString::from)
        .chain(["sh", "-c", script, "sh"].iter().map(OsString::from))
        .chain([rootfs().into(), root.clone().into_os_string()])
        .collect();
    let args: Vec<OsString> = vec![
        "run".into(),
        "--bundle".into(),
        b.path().into(),
        b.id.clone().into(),
    ];
    let out = rune.cmd(args).through(shared_host).run();
    out.assert_ok();
    // (The root's own propagation is rootfs_propagation_shared's business.)
    let tags = propagation_tags(mountinfo_line(&out.stdout, "/mnt/a"));
    assert!(
        tags.iter().any(|t| t.starts_with("shared:")),
        "/mnt/a should be shared: {tags:?}\n{}",
        out.stdout
    );
    assert_no_leaks(&rune, &b, None);
}
