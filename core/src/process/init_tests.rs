//! The init's namespace steps against the recording kernel (no root, no namespaces): the
//! order of joins, unshares and the user namespace's map round trip with the host.

use super::*;
use crate::ipc::channel::{self, End};
use crate::namespaces::tests::NsFiles;
use crate::process::message::HostEnd;
use crate::sys::syscall::{Call, Fake};
use std::path::PathBuf;

fn common(join: Vec<(NsType, PathBuf)>, unshare_flags: i32) -> Common {
    Common {
        spec: Default::default(),
        rootfs: "/nonexistent".into(),
        join,
        unshare_flags,
        preserve_fds: 0,
        extra_env: Vec::new(),
    }
}

fn channel_ends() -> (HostEnd, InitEnd) {
    let (a, b) = channel::pair().unwrap();
    (End::new(a), End::new(b))
}

fn setns(path: &std::path::Path, nstype: i32) -> Call {
    Call::Setns {
        path: path.to_path_buf(),
        nstype,
    }
}

#[test]
fn stage_a_joins_the_user_namespace_first_and_the_mount_namespace_after_unsharing() {
    let f = NsFiles::new("init-order", &[]);
    let (user, pid, net, mnt) = (f.path("user"), f.path("pid"), f.path("net"), f.path("mnt"));
    let cfg = common(
        vec![
            (NsType::User, user.clone()),
            (NsType::Pid, pid.clone()),
            (NsType::Mount, mnt.clone()),
            (NsType::Network, net.clone()),
        ],
        libc::CLONE_NEWUTS | libc::CLONE_NEWIPC,
    );
    let (_host, init) = channel_ends();
    let fake = Fake::new();
    enter_namespaces(&fake, &cfg, &init).unwrap();
    assert_eq!(
        fake.calls(),
        vec![
            setns(&user, libc::CLONE_NEWUSER),
            Call::BecomeRoot,
            setns(&pid, libc::CLONE_NEWPID),
            setns(&net, libc::CLONE_NEWNET),
            Call::Unshare(libc::CLONE_NEWUTS | libc::CLONE_NEWIPC),
            setns(&mnt, libc::CLONE_NEWNS),
        ]
    );
}

#[test]
fn a_new_user_namespace_is_mapped_by_the_host_before_the_init_becomes_its_root() {
    let f = NsFiles::new("init-userns", &[]);
    let pid_ns = f.path("pid");
    let cfg = common(
        vec![(NsType::Pid, pid_ns.clone())],
        libc::CLONE_NEWUSER | libc::CLONE_NEWNET,
    );
    let (host, init) = channel_ends();
    // The host's answer waits in the socket; the init reads it only after asking.
    host.send(&ToInit::MapsDone).unwrap();
    let fake = Fake::new();
    enter_namespaces(&fake, &cfg, &init).unwrap();
    let (msg, _) = host.recv().unwrap().unwrap();
    assert!(
        matches!(msg, FromInit::MapRequest { pid } if pid == std::process::id() as i32),
        "{:?}",
        msg
    );
    assert_eq!(
        fake.calls(),
        vec![
            Call::Unshare(libc::CLONE_NEWUSER),
            Call::BecomeRoot,
            setns(&pid_ns, libc::CLONE_NEWPID),
            Call::Unshare(libc::CLONE_NEWNET),
        ]
    );
}

#[test]
fn a_host_that_hangs_up_instead_of_mapping_ends_the_init_quietly() {
    let cfg = common(Vec::new(), libc::CLONE_NEWUSER);
    let (host, init) = channel_ends();
    let fake = Fake::new();
    let host_side = std::thread::spawn(move || {
        let _ = host.recv().unwrap();
        drop(host);
    });
    let e = enter_namespaces(&fake, &cfg, &init).unwrap_err();
    host_side.join().unwrap();
    assert!(is_host_gone(&e), "{}", e);
    assert_eq!(fake.calls(), vec![Call::Unshare(libc::CLONE_NEWUSER)]);
    // Quiet: nothing printed, the host reports its own error.
    assert!(ends(&init, Err(e)).report.is_none());
}

#[test]
fn a_refused_join_stops_stage_a_before_any_later_namespace() {
    let f = NsFiles::new("init-refused", &[]);
    let (user, net) = (f.path("user"), f.path("net"));
    let cfg = common(
        vec![(NsType::User, user.clone()), (NsType::Network, net)],
        libc::CLONE_NEWUTS,
    );
    let (_host, init) = channel_ends();
    let fake = Fake::new().fail(|c| matches!(c, Call::Setns { .. }), libc::EPERM);
    let e = enter_namespaces(&fake, &cfg, &init).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EPERM));
    assert!(e.message().contains(&user.display().to_string()), "{}", e);
    assert_eq!(fake.calls(), vec![setns(&user, libc::CLONE_NEWUSER)]);
}

#[test]
fn at_clone_the_init_joins_by_path_then_unshares_the_cgroup_namespace() {
    let f = NsFiles::new("init-full", &[]);
    let net = f.path("net");
    let cfg = common(vec![(NsType::Network, net.clone())], libc::CLONE_NEWCGROUP);
    let fake = Fake::new();
    finish_namespaces(&fake, &cfg).unwrap();
    assert_eq!(
        fake.calls(),
        vec![
            setns(&net, libc::CLONE_NEWNET),
            Call::Unshare(libc::CLONE_NEWCGROUP)
        ]
    );
}

#[test]
fn an_error_the_host_cannot_hear_is_reported_by_the_init_itself() {
    let (host, init) = channel_ends();
    drop(host);
    let exit = ends(&init, Err(err!(InvalidSpec, "bad")));
    assert_eq!(exit.code, 1);
    assert_eq!(exit.report.as_deref(), Some("rune init: bad"));
}

/// Whether the host hung up is the error's cause, not its wording: context added on the way
/// keeps it, and another broken pipe with the same words is not it.
#[test]
fn host_gone_survives_context_and_is_not_guessed_from_words() {
    let e = crate::process::message::host_gone().context("wait for HooksDone");
    assert!(is_host_gone(&e), "{e}");
    let look_alike = Error::os("the host closed rune init's channel", libc::EPIPE);
    assert!(!is_host_gone(&look_alike));
}
