//! The init's create steps: their order and which a config asks for (a recording seam), and
//! the root switch without a mount namespace of its own (the recording kernel).

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
        workload: WorkloadConfig::default(),
        cgroup_mounts: Default::default(),
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

/// Records the create steps taken; `fail` names one that fails.
#[derive(Default)]
struct Recorder {
    taken: Vec<String>,
    fail: Option<&'static str>,
}

impl Recorder {
    fn step(&mut self, name: &str) -> Result<()> {
        self.taken.push(name.to_string());
        if self.fail == Some(name) {
            return Err(crate::err!(Os, "{} failed", name));
        }
        Ok(())
    }
}

/// `fn name(&mut self) -> Result<()>` steps that record their name.
macro_rules! recorded {
    ($($name:ident),* $(,)?) => {
        $(fn $name(&mut self) -> Result<()> {
            self.step(stringify!($name))
        })*
    };
}

impl CreateSteps for Recorder {
    recorded!(
        seal,
        close_inherited,
        load_workload,
        mounts,
        host_hooks,
        create_container_hooks,
        set_names,
        console,
        finish_rootfs,
        root_propagation,
        prepare_process,
        ready,
        wait_start,
        start_container_hooks,
    );
    fn enter_root(&mut self, has_mntns: bool) -> Result<()> {
        self.step(if has_mntns { "pivot" } else { "chroot" })
    }
    fn join_keyring(&mut self) {
        let _ = self.step("join_keyring");
    }
    fn run(&mut self) -> Result<i32> {
        self.step("run").map(|_| 0)
    }
}

fn config_with(spec: &str, no_new_keyring: bool) -> CreateConfig {
    let mut cfg = create_config("/r");
    cfg.common.spec = crate::rootfs::testing::spec(spec);
    cfg.no_new_keyring = no_new_keyring;
    cfg
}

fn take(rec: &mut Recorder, cfg: &CreateConfig) -> Result<i32> {
    let process = cfg.common.spec.process().clone().unwrap();
    create_in_order(rec, cfg, &process)
}

/// Every step, as a config with a mount namespace, a terminal and a keyring takes them.
const EVERY_STEP: [&str; 17] = [
    "seal",
    "close_inherited",
    "load_workload",
    "mounts",
    "host_hooks",
    "create_container_hooks",
    "pivot",
    "set_names",
    "console",
    "finish_rootfs",
    "root_propagation",
    "join_keyring",
    "prepare_process",
    "ready",
    "wait_start",
    "start_container_hooks",
    "run",
];

#[test]
fn create_takes_its_steps_in_runtime_md_order() {
    let cfg = config_with(
        r#""process":{"args":["sh"],"cwd":"/","terminal":true,"user":{"uid":0,"gid":0}},
           "linux":{"namespaces":[{"type":"mount"}]}"#,
        false,
    );
    let mut rec = Recorder::default();
    assert_eq!(take(&mut rec, &cfg).unwrap(), 0);
    assert_eq!(rec.taken, EVERY_STEP);
}

/// Without a mount namespace there are no mounts and no propagation to set, the root is
/// chrooted; no terminal, no console; --no-new-keyring, no keyring.
#[test]
fn create_takes_only_the_steps_its_config_asks_for() {
    let cfg = config_with(r#""linux":{"namespaces":[{"type":"pid"}]}"#, true);
    let mut rec = Recorder::default();
    take(&mut rec, &cfg).unwrap();
    let left_out = ["mounts", "root_propagation", "console", "join_keyring"];
    let want: Vec<&str> = EVERY_STEP
        .iter()
        .filter(|s| !left_out.contains(s))
        .map(|s| if *s == "pivot" { "chroot" } else { s })
        .collect();
    assert_eq!(rec.taken, want);
}

/// A failing step ends create there: nothing after it runs (the host cleans up).
#[test]
fn a_failing_step_is_the_last_one_taken() {
    let cfg = config_with(r#""linux":{"namespaces":[{"type":"mount"}]}"#, false);
    let mut rec = Recorder {
        fail: Some("mounts"),
        ..Default::default()
    };
    let e = take(&mut rec, &cfg).unwrap_err();
    assert_eq!(e.message(), "mounts failed");
    assert_eq!(rec.taken.last().map(String::as_str), Some("mounts"));
    assert!(!rec.taken.iter().any(|s| s == "host_hooks"));
}
