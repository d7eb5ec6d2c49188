//! Idmapped bind mounts (`idmap`, `ridmap`, a mount's uidMappings/gidMappings), as Kubernetes
//! uses them for user-namespace pods: a volume owned by host root reads as the container's
//! root, and what the container writes is host root's on disk. Plain and in an enclave.

use rune_integration::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A pod's user namespace: container ids 0..65536 are host ids 100000...
const POD_HOST_ID: u32 = 100000;

/// A volume owned by host root (0:0, mode 0755) holding `f` (0:0, 0644), under /var/tmp (a
/// disk's file system more often than /tmp, which may be a tmpfs: idmappable only from 6.3).
fn volume() -> tempfile::TempDir {
    for dest in ["/vol", "/plain"] {
        ensure_mount_point(dest);
    }
    let dir = tempfile::Builder::new()
        .prefix("rune-idmap-")
        .tempdir_in("/var/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("f"), "data\n").unwrap();
    std::fs::set_permissions(dir.path().join("f"), std::fs::Permissions::from_mode(0o644)).unwrap();
    dir
}

/// Whether this kernel can idmap a mount of the file system `dir` is on (ext4, xfs and btrfs
/// from 5.12, tmpfs from 6.3, ...), found out with the calls rune makes but without rune: a
/// detached copy of the mount (open_tree) given the mapping of a user namespace that
/// `unshare --user --map-root-user` holds (mount_setattr MOUNT_ATTR_IDMAP).
fn kernel_can_idmap(dir: &Path) -> bool {
    let mut holder = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "sleep", "60"])
        .spawn()
        .expect("run unshare (util-linux)");
    let pid = holder.id();
    // unshare writes the maps before it executes sleep.
    let mapped = wait_until(POLL_TIMEOUT, || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });
    assert!(mapped, "unshare did not get to sleep");
    let userns = std::fs::File::open(format!("/proc/{pid}/ns/user")).unwrap();
    let path = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    // SAFETY: open_tree with a NUL-terminated path; returns a new descriptor or -1.
    let tree = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    } as i32;
    assert!(tree >= 0, "open_tree {}", dir.display());
    // SAFETY: mount_attr is plain data; zero is its default.
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = libc::MOUNT_ATTR_IDMAP;
    attr.userns_fd = std::os::fd::AsRawFd::as_raw_fd(&userns) as u64;
    // SAFETY: the detached tree, an empty path, a mount_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    let errno = std::io::Error::last_os_error().raw_os_error();
    // SAFETY: closes the descriptor open_tree gave us.
    unsafe { libc::close(tree) };
    let _ = holder.kill();
    let _ = holder.wait();
    match r {
        0 => true,
        _ if errno == Some(libc::EINVAL) => false,
        _ => panic!("mount_setattr(MOUNT_ATTR_IDMAP): errno {errno:?}"),
    }
}

/// A volume the pods can idmap, or None where the kernel cannot idmap its file system: then
/// rune is seen to refuse such a mount with the cause named, leaving nothing.
fn idmappable_volume() -> Option<tempfile::TempDir> {
    let vol = volume();
    if kernel_can_idmap(vol.path()) {
        return Some(vol);
    }
    let rune = Rune::new();
    let mut b = Bundle::new("idmapno");
    b.user_namespace(POD_HOST_ID, 65536)
        .bind(vol.path(), "/vol", &["rbind", "idmap"])
        .args(&["true"]);
    rune.create(&b)
        .assert_fail_mentioning(&["idmapped mount of", "cannot be idmapped on this kernel"]);
    assert_no_leaks(&rune, &b, None);
    None
}

fn owner(p: &Path) -> String {
    let md = std::fs::metadata(p).unwrap_or_else(|e| panic!("stat {}: {e}", p.display()));
    format!("{}:{}", md.uid(), md.gid())
}

/// The pod's mappings, given on a mount as containerd gives them.
fn with_pod_mappings(b: &mut Bundle) {
    let map = json!([{"containerID": 0, "hostID": POD_HOST_ID, "size": 65536}]);
    let m = b.spec["mounts"].as_array_mut().unwrap().last_mut().unwrap();
    m["uidMappings"] = map.clone();
    m["gidMappings"] = map;
}

const READ_AND_WRITE: &str = "stat -c %u:%g /vol/f /plain/f; echo new > /vol/new; \
                              stat -c %u:%g /vol/new; cat /vol/f";

/// The pod's two views of `vol` (idmapped at /vol, the last mount; a plain bind at /plain),
/// and the script that reads and writes through them.
fn mount_pod_volume<'b>(b: &'b mut Bundle, vol: &Path) -> &'b mut Bundle {
    b.bind(vol, "/plain", &["rbind"])
        .bind(vol, "/vol", &["rbind", "rw", "idmap"])
        .sh(READ_AND_WRITE)
}

/// Runs the pod's container and checks what it saw and wrote.
#[track_caller]
fn run_pod(rune: &Rune, b: &Bundle, vol: &Path) {
    let out = rune.run(b);
    out.assert_ok();
    assert_pod_view(&out.stdout, vol);
}

#[track_caller]
fn assert_pod_view(out: &str, vol: &Path) {
    assert_eq!(
        out, "0:0\n65534:65534\n0:0\ndata\n",
        "inside: the idmapped volume is root's, the plain bind of it nobody's"
    );
    assert_eq!(
        owner(&vol.join("new")),
        "0:0",
        "on disk, a new file is host root's"
    );
}

/// Kubernetes' case: a pod in its own user namespace mounts a root-owned volume with `idmap`
/// and no mappings of its own (the container's are used), and with the pod's mappings on the
/// mount (as containerd writes them). Without the mapping (`/plain`) the files are nobody's.
#[test]
fn a_root_owned_volume_reads_as_the_pods_root_and_writes_as_host_root() {
    for own_mappings in [false, true] {
        let Some(vol) = idmappable_volume() else {
            return;
        };
        let rune = Rune::new();
        let mut b = Bundle::new("idmappod");
        mount_pod_volume(b.user_namespace(POD_HOST_ID, 65536), vol.path());
        if own_mappings {
            with_pod_mappings(&mut b);
        }
        run_pod(&rune, &b, vol.path());
        assert_no_leaks(&rune, &b, None);
        assert_eq!(
            owner(&vol.path().join("f")),
            "0:0",
            "the volume is unchanged"
        );
    }
}

/// The same pod as an enclave container: the payload runs in the skeleton's enclave and sees
/// the volume as its root's. (The skeleton's trace directory, host root's, is idmapped too:
/// else the pod's root could not write its trace.)
#[test]
fn an_enclave_pod_sees_the_idmapped_volume_too() {
    let rune = Rune::new();
    let Some(vol) = idmappable_volume() else {
        return;
    };
    let (mut b, trace) = skeleton_bundle("idmapenc", 3);
    for m in b.spec["mounts"].as_array_mut().unwrap() {
        if m["destination"] == TRACE_MOUNT {
            m["options"].as_array_mut().unwrap().push(json!("idmap"));
        }
    }
    mount_pod_volume(b.user_namespace(POD_HOST_ID, 65536), vol.path());
    run_pod(&rune, &b, vol.path());
    assert!(
        trace
            .lines()
            .iter()
            .any(|l| l.starts_with("pal_create_process")),
        "the payload ran in the enclave:\n{}",
        trace.dump()
    );
    assert_no_leaks(&rune, &b, None);
}

/// A container that joins another's user namespace (a pod's second container) maps its
/// `idmap` volume by that namespace.
#[test]
fn a_container_joining_a_user_namespace_maps_by_it() {
    let rune = Rune::new();
    let Some(vol) = idmappable_volume() else {
        return;
    };
    let mut pause = Bundle::new("idmappause");
    pause
        .user_namespace(POD_HOST_ID, 65536)
        .args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&pause);
    let mut b = Bundle::new("idmapjoin");
    b.namespace("user", Some(&format!("/proc/{pid}/ns/user")))
        .unset("/linux/uidMappings")
        .unset("/linux/gidMappings");
    mount_pod_volume(&mut b, vol.path());
    run_pod(&rune, &b, vol.path());
    assert_no_leaks(&rune, &b, None);
    rune.delete_force(&pause.id).assert_ok();
    assert_no_leaks(&rune, &pause, Some(pid));
}

/// A host mount on `at`, undone on drop.
struct HostMount(PathBuf);

impl HostMount {
    fn bind(src: &Path, at: &Path) -> HostMount {
        let c = |p: &Path| std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        let (s, t) = (c(src), c(at));
        // SAFETY: NUL-terminated paths, no data.
        let r = unsafe {
            libc::mount(
                s.as_ptr(),
                t.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "bind {} on {}", src.display(), at.display());
        HostMount(at.to_path_buf())
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let t = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) };
    }
}

/// `ridmap` maps the submounts an `rbind` brings along; `idmap` maps the top mount only
/// (runc's rule: the option, not the bind, says whether the mapping is recursive).
#[test]
fn ridmap_maps_the_submounts_and_idmap_only_the_top() {
    let Some(vol) = idmappable_volume() else {
        return;
    };
    let inner = volume();
    std::fs::create_dir(vol.path().join("sub")).unwrap();
    let _sub = HostMount::bind(inner.path(), &vol.path().join("sub"));
    let mut outputs = Vec::new();
    for option in ["ridmap", "idmap"] {
        let mut b = Bundle::new("idmaprec");
        b.user_namespace(POD_HOST_ID, 65536)
            .bind(vol.path(), "/vol", &["rbind", option]);
        outputs.push(run_in(&mut b, "stat -c %u:%g /vol/f /vol/sub/f"));
    }
    assert_eq!(outputs, ["0:0\n0:0\n", "0:0\n65534:65534\n"]);
}

/// Without a user namespace, a mount's own mappings still apply (runc: mappings without the
/// option mean `idmap`): with 0 -> 1000 (uid) and 0 -> 2000 (gid), root's files read as
/// 1000:2000, and what 1000:2000 writes is root's on disk.
#[test]
fn a_mounts_own_mappings_apply_without_a_user_namespace() {
    let Some(vol) = idmappable_volume() else {
        return;
    };
    let mut b = Bundle::new("idmapplain");
    b.bind(vol.path(), "/vol", &["rbind"]);
    let m = b.spec["mounts"].as_array_mut().unwrap().last_mut().unwrap();
    m["uidMappings"] = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
    m["gidMappings"] = json!([{"containerID": 0, "hostID": 2000, "size": 1}]);
    b.user(1000, 2000, &[]);
    let out = run_in(
        &mut b,
        "stat -c %u:%g /vol/f; echo x > /vol/by-1000; stat -c %u:%g /vol/by-1000",
    );
    assert_eq!(out, "1000:2000\n1000:2000\n");
    assert_eq!(owner(&vol.path().join("by-1000")), "0:0");
}

/// A file system the kernel cannot idmap (procfs has no idmapping support on any kernel) is a
/// clear error naming the source and the cause, and leaves nothing behind.
#[test]
fn a_source_the_kernel_cannot_idmap_is_a_clear_error() {
    // The probe the other tests rely on says so too.
    assert!(!kernel_can_idmap(Path::new("/proc/sys")));
    let rune = Rune::new();
    let mut b = Bundle::new("idmapproc");
    b.user_namespace(POD_HOST_ID, 65536)
        .bind(Path::new("/proc/sys"), "/mnt/p", &["rbind", "idmap"])
        .args(&["true"]);
    b.write();
    let out = rune.create(&b);
    out.assert_fail_mentioning(&[
        "idmapped mount of /proc/sys",
        "MOUNT_ATTR_IDMAP",
        "cannot be idmapped on this kernel",
    ]);
    assert_no_leaks(&rune, &b, None);
    let list = rune.cmd(["list", "-q"]).run();
    assert_eq!(list.stdout.trim(), "", "{list}");
}

/// `rune features` says idmapped mounts are supported, and lists the options.
#[test]
fn features_lists_idmapped_mounts() {
    let out = Rune::new().cmd(["features"]).run();
    out.assert_ok();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["linux"]["mountExtensions"]["idmap"]["enabled"],
        json!(true)
    );
    let opts = doc["mountOptions"].as_array().unwrap();
    for o in ["idmap", "ridmap"] {
        assert!(opts.contains(&json!(o)), "{o} not in {opts:?}");
    }
}
