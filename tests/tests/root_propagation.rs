//! `linux.rootfsPropagation`: the propagation of the container's root mount, and the root's
//! preparation on hosts whose mounts are shared.

use rune_integration::*;
use std::ffi::OsString;
use std::path::Path;

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

/// A bundle as Kubernetes' CRI mount-propagation test makes it: rootfsPropagation rshared,
/// `host` bound at /mnt/a with rbind,rshared, and a rootfs/ that [`run_on_shared_host`] makes
/// a mount point of its own (as containerd's snapshots are).
fn shared_host_bundle(prefix: &str, host: &Path) -> Bundle {
    let mut b = Bundle::new(prefix);
    let root = b.file("rootfs");
    std::fs::create_dir(&root).unwrap();
    b.set(
        "/root",
        json!({"path": root.to_str().unwrap(), "readonly": true}),
    )
    .set("/linux/rootfsPropagation", json!("rshared"))
    .bind(host, "/mnt/a", &["rbind", "rshared"]);
    b
}

/// `run <extra> ID` as on a host whose mounts are shared (systemd's default): in a mount
/// namespace of the runtime's own with / rshared, where the busybox rootfs is bound onto the
/// bundle's rootfs/. Once the container is gone, prints "host sees WATCH" if `watch` is a mount
/// point in that (the host's) namespace.
fn run_on_shared_host(rune: &Rune, b: &Bundle, extra: &[&str], watch: &Path) -> Output {
    b.write();
    rune.track(&b.id);
    let script = r#"src=$1 dst=$2 watch=$3; shift 3
        mount --bind "$src" "$dst" && mount --make-shared "$dst" && "$@" || exit
        if grep -q " $watch " /proc/self/mountinfo; then echo "host sees $watch"; fi"#;
    let shared_host: Vec<OsString> = ["unshare", "--mount", "--propagation", "shared"]
        .iter()
        .chain(&["sh", "-c", script, "sh"])
        .map(OsString::from)
        .chain([rootfs().into(), b.file("rootfs").into(), watch.into()])
        .collect();
    let mut args: Vec<OsString> = vec!["run".into(), "--bundle".into(), b.path().into()];
    args.extend(extra.iter().map(OsString::from));
    args.push(b.id.clone().into());
    rune.cmd(args).through(shared_host).run()
}

/// pivot_root refuses a shared new root, and MS_MOVE (--no-pivot) one under a shared parent:
/// the mount holding the rootfs must be made private first, whatever the propagation.
#[test]
fn rshared_root_on_a_shared_host_with_an_rshared_bind() {
    let host = tempfile::tempdir().unwrap();
    for extra in [&[][..], &["--no-pivot"]] {
        let rune = Rune::new();
        let mut b = shared_host_bundle("rshared", host.path());
        b.sh("cat /proc/self/mountinfo");
        let out = run_on_shared_host(&rune, &b, extra, Path::new("/none"));
        out.assert_ok();
        // (The root's own propagation is rootfs_propagation_shared's business.)
        let tags = propagation_tags(mountinfo_line(&out.stdout, "/mnt/a"));
        assert!(
            tags.iter().any(|t| t.starts_with("shared:")),
            "{extra:?}: /mnt/a should be shared: {tags:?}\n{}",
            out.stdout
        );
        assert_no_leaks(&rune, &b, None);
    }
}

/// Kubernetes' Bidirectional volumes: a mount the container makes inside an rshared bind
/// shows on the host, as the bind is a peer of the host's mount (not merely shared among the
/// container's own mounts).
#[test]
fn mounts_made_in_an_rshared_bind_reach_the_host() {
    let rune = Rune::new();
    let host = tempfile::tempdir().unwrap();
    std::fs::create_dir(host.path().join("x")).unwrap();
    let mut b = shared_host_bundle("bidir", host.path());
    let caps = json!(["CAP_SYS_ADMIN"]);
    for set in ["bounding", "effective", "permitted"] {
        b.set(&format!("/process/capabilities/{set}"), caps.clone());
    }
    b.unset("/process/capabilities/ambient")
        .sh("mount -t tmpfs tmpfs /mnt/a/x && echo mounted");
    let watch = host.path().join("x");
    let out = run_on_shared_host(&rune, &b, &[], &watch);
    out.assert_ok();
    let want = format!("mounted\nhost sees {}\n", watch.display());
    assert_eq!(out.stdout, want, "{out}");
    assert_no_leaks(&rune, &b, None);
}
