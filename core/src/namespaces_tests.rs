//! The namespace plan and steps against the recording kernel.

use super::*;
use crate::sys::syscall::{Call, Fake};

fn spec_with(ns: &str) -> Spec {
    let text = format!(
        r#"{{"ociVersion":"1.2.0","process":{{"args":["sh"],"cwd":"/","user":{{"uid":0,"gid":0}}}},
           "root":{{"path":"rootfs"}},"linux":{{"namespaces":{ns}}}}}"#
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn common_case_creates_everything_at_clone() {
    let p = plan(&spec_with(
        r#"[{"type":"pid"},{"type":"mount"},{"type":"network"},{"type":"cgroup"}]"#,
    ));
    assert_eq!(p.stage, Stage::Full);
    assert_eq!(
        p.clone_flags,
        libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWNET
    );
    assert_eq!(p.unshare_flags, libc::CLONE_NEWCGROUP);
}

#[test]
fn joined_pid_namespace_needs_the_init_to_fork() {
    let p = plan(&spec_with(
        r#"[{"type":"pid","path":"/proc/1/ns/pid"},{"type":"mount"},{"type":"user","path":"/proc/1/ns/user"}]"#,
    ));
    assert_eq!(p.stage, Stage::Namespaces);
    assert_eq!(p.clone_flags, libc::CLONE_NEWNS);
    assert_eq!(p.join[0].0, NsType::User);
    assert_eq!(p.join[1].0, NsType::Pid);
}

#[test]
fn joins_go_user_first_and_mount_last_each_with_its_type() {
    let names = ["mnt", "net", "user", "ipc", "uts", "pid", "cgroup", "time"];
    let files = NsFiles::new("order", &names);
    let types = [
        "mount", "network", "user", "ipc", "uts", "pid", "cgroup", "time",
    ];
    let listed: Vec<String> = types
        .iter()
        .zip(names)
        .map(|(t, n)| format!(r#"{{"type":"{t}","path":"{}"}}"#, files.0.join(n).display()))
        .collect();
    let p = plan(&spec_with(&format!("[{}]", listed.join(","))));
    let fake = Fake::new();
    for (t, path) in &p.join {
        join(&fake, *t, path).unwrap();
    }
    let setns = |n: &str, nstype: i32| Call::Setns {
        path: files.0.join(n),
        nstype,
    };
    assert_eq!(
        fake.calls(),
        [
            setns("user", libc::CLONE_NEWUSER),
            setns("ipc", libc::CLONE_NEWIPC),
            setns("uts", libc::CLONE_NEWUTS),
            setns("net", libc::CLONE_NEWNET),
            setns("pid", libc::CLONE_NEWPID),
            setns("cgroup", libc::CLONE_NEWCGROUP),
            setns("time", libc::CLONE_NEWTIME),
            setns("mnt", libc::CLONE_NEWNS),
        ]
    );
}

#[test]
fn a_refused_join_names_the_namespace_and_its_path() {
    let files = NsFiles::new("refused", &["net"]);
    let fake = Fake::new().fail(|c| matches!(c, Call::Setns { .. }), libc::EINVAL);
    let path = files.0.join("net");
    let e = join(&fake, NsType::Network, &path).unwrap_err();
    assert_eq!(
        e.message(),
        format!("join net namespace {}: Invalid argument", path.display())
    );
    // A path that does not open never reaches setns.
    let fake = Fake::new();
    let e = join(&fake, NsType::Ipc, &files.0.join("none")).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT));
    assert!(
        e.message().starts_with("open ipc namespace "),
        "{}",
        e.message()
    );
    assert_eq!(fake.calls(), []);
}

#[test]
fn unshare_passes_every_flag_at_once_and_names_them_on_failure() {
    let fake = Fake::new();
    unshare(&fake, 0).unwrap();
    assert_eq!(fake.calls(), [], "nothing to unshare: no call");
    let p = plan(&spec_with(
        r#"[{"type":"user"},{"type":"time"},{"type":"uts"},{"type":"ipc","path":"/x"}]"#,
    ));
    let want = libc::CLONE_NEWUSER | libc::CLONE_NEWTIME | libc::CLONE_NEWUTS;
    assert_eq!(p.unshare_flags, want);
    let fake = Fake::new().fail(|c| matches!(c, Call::Unshare(_)), libc::EPERM);
    let e = unshare(&fake, p.unshare_flags).unwrap_err();
    assert_eq!(fake.calls(), [Call::Unshare(want)]);
    assert_eq!(
        e.message(),
        "unshare namespaces user,uts,time: Operation not permitted"
    );
}

#[test]
fn hostname_and_domainname_are_set_when_given() {
    let mut spec = spec_with(r#"[{"type":"uts"}]"#);
    spec.set_hostname(Some("box".into()));
    spec.set_domainname(Some("example.org".into()));
    let fake = Fake::new();
    set_names(&fake, &spec).unwrap();
    assert_eq!(
        fake.calls(),
        [
            Call::Sethostname("box".into()),
            Call::Setdomainname("example.org".into())
        ]
    );
    spec.set_hostname(Some(String::new()));
    spec.set_domainname(None);
    let fake = Fake::new();
    set_names(&fake, &spec).unwrap();
    assert_eq!(fake.calls(), []);
}

/// Empty files standing for namespace files (setns goes to the fake).
pub(crate) struct NsFiles(pub PathBuf);

impl NsFiles {
    pub(crate) fn new(name: &str, names: &[&str]) -> NsFiles {
        let d = std::env::temp_dir().canonicalize().unwrap().join(format!(
            "rune-unit-ns-{}-{}",
            name,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for n in names {
            std::fs::write(d.join(n), "").unwrap();
        }
        NsFiles(d)
    }

    /// The file `name` (made empty if it is not there yet).
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        let p = self.0.join(name);
        if !p.exists() {
            std::fs::write(&p, "").unwrap();
        }
        p
    }
}

impl Drop for NsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
