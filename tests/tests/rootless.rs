//! Rootless: a plain (non-root) user runs a container in a user namespace, with the config
//! `rune spec --rootless` writes; one id mapping directly, several through newuidmap/newgidmap.

use rune_integration::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const USER: &str = TEST_USER;
const UID: u32 = TEST_UID;

fn ensure_user() {
    ensure_test_user();
}

/// A directory the test user owns.
fn user_dir(parent: &Path, name: &str) -> std::path::PathBuf {
    let d = parent.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::os::unix::fs::chown(&d, Some(UID), Some(UID)).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// A temporary directory others may enter, holding the test user's `bundle` and `state`.
struct UserDirs {
    tmp: tempfile::TempDir,
    bundle: std::path::PathBuf,
    root: std::path::PathBuf,
}

fn user_dirs() -> UserDirs {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bundle = user_dir(tmp.path(), "bundle");
    let root = user_dir(tmp.path(), "state");
    UserDirs { tmp, bundle, root }
}

/// Runs rune as the test user.
fn rune_as_user(root: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", USER, "--"])
        .arg(user_rune_bin())
        .arg("--root")
        .arg(root)
        .args(args);
    cmd.output().expect("run runuser")
}

/// A bundle from `rune spec --rootless` written by the user, on the shared rootfs.
fn rootless_bundle(dir: &Path, script: &str, edit: impl FnOnce(&mut Value)) {
    let spec = Command::new("runuser")
        .args(["-u", USER, "--"])
        .arg(user_rune_bin())
        .args(["spec", "--rootless", "--bundle"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(spec.status.success(), "spec --rootless: {:?}", spec);
    let path = dir.join("config.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    c["process"]["terminal"] = json!(false);
    c["process"]["args"] = json!(["sh", "-c", script]);
    c["root"]["path"] = json!(rootfs());
    assert_eq!(c["linux"]["uidMappings"][0]["hostID"], json!(UID), "{c}");
    edit(&mut c);
    std::fs::write(&path, serde_json::to_string_pretty(&c).unwrap()).unwrap();
}

#[test]
fn plain_user_runs_a_container_with_one_mapping() {
    ensure_user();
    let UserDirs {
        tmp: _tmp,
        bundle,
        root,
    } = user_dirs();
    rootless_bundle(
        &bundle,
        "id -u; id -g; cat /proc/self/uid_map; ls /dev/null",
        |_| {},
    );
    let out = rune_as_user(&root, &["run", "--bundle", bundle.to_str().unwrap(), "rl1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?}\n{}",
        out,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "0", "{stdout}");
    assert_eq!(lines[1], "0", "{stdout}");
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["0", "4242", "1"],
        "{stdout}"
    );
    assert_eq!(lines[3], "/dev/null");
    // Nothing left: the state directory is gone.
    assert!(
        std::fs::read_dir(&root).unwrap().next().is_none(),
        "state left behind"
    );
}

#[test]
fn plain_user_cannot_get_cgroup_limits_without_delegation() {
    ensure_user();
    let UserDirs {
        tmp: _tmp,
        bundle,
        root,
    } = user_dirs();
    rootless_bundle(&bundle, "true", |c| {
        c["linux"]["resources"] = json!({"pids": {"limit": 10}});
    });
    let out = rune_as_user(&root, &["run", "--bundle", bundle.to_str().unwrap(), "rl2"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cgroup"), "{stderr}");
    assert!(
        std::fs::read_dir(&root).unwrap().next().is_none(),
        "state left behind"
    );
}

/// An idmapped mount needs CAP_SYS_ADMIN over the source's file system, which a plain user
/// has not: refused with that cause, as runc refuses it for rootless containers, and nothing
/// left (a mount with the source's owners would show the pod's files as nobody's).
#[test]
fn plain_user_cannot_make_an_idmapped_mount() {
    ensure_user();
    let UserDirs { tmp, bundle, root } = user_dirs();
    let vol = user_dir(tmp.path(), "vol");
    rootless_bundle(&bundle, "true", |c| {
        c["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/mnt", "type": "bind", "source": vol, "options": ["rbind", "idmap"]
        }));
    });
    let out = rune_as_user(&root, &["run", "--bundle", bundle.to_str().unwrap(), "rl3"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("idmapped mount of") && stderr.contains("needs rune to run as root"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(&root).unwrap().next().is_none(),
        "state left behind"
    );
}

#[test]
fn plain_user_with_several_mappings_uses_newuidmap() {
    ensure_user();
    // Subordinate ids for the user, as an administrator grants them (useradd may have).
    let mut start = [0u32; 2];
    for (i, f) in ["/etc/subuid", "/etc/subgid"].iter().enumerate() {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let mine = text.lines().find_map(|l| {
            let p: Vec<&str> = l.split(':').collect();
            (p.len() == 3 && p[0] == USER && p[2].parse::<u32>().unwrap_or(0) >= 65536)
                .then(|| p[1].parse::<u32>().unwrap())
        });
        start[i] = match mine {
            Some(s) => s,
            None => {
                let mut t = text;
                t.push_str(&format!("{USER}:300000:65536\n"));
                std::fs::write(f, t).unwrap();
                300000
            }
        };
    }
    let UserDirs {
        tmp: _tmp,
        bundle,
        root,
    } = user_dirs();
    rootless_bundle(&bundle, "cat /proc/self/uid_map /proc/self/gid_map", |c| {
        let m = |sub: u32| {
            json!([{"containerID": 0, "hostID": UID, "size": 1},
                   {"containerID": 1, "hostID": sub, "size": 65536}])
        };
        c["linux"]["uidMappings"] = m(start[0]);
        c["linux"]["gidMappings"] = m(start[1]);
    });
    let out = rune_as_user(&root, &["run", "--bundle", bundle.to_str().unwrap(), "rl3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?}\n{}",
        out,
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let sub = start[0].to_string();
    assert!(rows.contains(&vec!["1", sub.as_str(), "65536"]), "{stdout}");
    assert_eq!(rows.len(), 4, "{stdout}");
}
