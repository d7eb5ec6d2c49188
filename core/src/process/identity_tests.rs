//! The order of the identity steps, recorded (no root: nothing reaches the kernel).

use super::*;
use std::cell::RefCell;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Rlimits,
    Oom(i32),
    Seccomp,
    MakeCwd,
    EnterCwd,
    Privileged,
    Bounding,
    Prctl(i32, libc::c_ulong),
    SwitchUser(u32),
    CapSets,
    Umask(libc::mode_t),
    Last,
}

/// Records each step; `fail` makes the first step it matches fail with EPERM (recorded too).
#[derive(Default)]
struct Recorder {
    steps: RefCell<Vec<Step>>,
    fail: Option<fn(&Step) -> bool>,
}

impl Recorder {
    fn failing(fail: fn(&Step) -> bool) -> Recorder {
        Recorder {
            fail: Some(fail),
            ..Default::default()
        }
    }

    fn step(&self, s: Step) -> Result<()> {
        let fails = self.fail.is_some_and(|f| f(&s));
        self.steps.borrow_mut().push(s);
        if fails {
            return Err(crate::Error::os("step", libc::EPERM));
        }
        Ok(())
    }

    fn steps(&self) -> Vec<Step> {
        self.steps.borrow().clone()
    }
}

impl Identity for Recorder {
    fn rlimits(&self, _: &[PosixRlimit]) -> Result<()> {
        self.step(Step::Rlimits)
    }
    fn oom_score_adj(&self, adj: i32) -> Result<()> {
        self.step(Step::Oom(adj))
    }
    fn seccomp(&self, _: &Spec) -> Result<()> {
        self.step(Step::Seccomp)
    }
    fn make_cwd(&self, _: &Path) {
        let _ = self.step(Step::MakeCwd);
    }
    fn enter_cwd(&self, _: &Path) -> Result<()> {
        self.step(Step::EnterCwd)
    }
    fn privileged_attrs(&self, _: &Spec, _: &Process) -> Result<()> {
        self.step(Step::Privileged)
    }
    fn bounding_set(&self, _: &LinuxCapabilities) -> Result<()> {
        self.step(Step::Bounding)
    }
    fn prctl(&self, op: i32, arg: libc::c_ulong, _: &str) -> Result<()> {
        self.step(Step::Prctl(op, arg))
    }
    fn switch_user(&self, u: &User) -> Result<()> {
        self.step(Step::SwitchUser(u.uid()))
    }
    fn capability_sets(&self, _: &LinuxCapabilities) -> Result<()> {
        self.step(Step::CapSets)
    }
    fn umask(&self, mask: libc::mode_t) {
        let _ = self.step(Step::Umask(mask));
    }
    fn last_attrs(&self, _: &Process) -> Result<()> {
        self.step(Step::Last)
    }
}

fn process(extra: &str) -> Process {
    serde_json::from_str(&format!(
        r#"{{"args":["sh"],"cwd":"/work","user":{{"uid":1000,"gid":1000,"umask":63}}{extra}}}"#
    ))
    .unwrap()
}

fn run(id: &Recorder, p: &Process) -> Result<()> {
    let spec = Spec::default();
    assume(id, &spec, p)?;
    finish(id, &spec, p)
}

const KEEP_ON: Step = Step::Prctl(libc::PR_SET_KEEPCAPS, 1);
const KEEP_OFF: Step = Step::Prctl(libc::PR_SET_KEEPCAPS, 0);
const NOT_DUMPABLE: Step = Step::Prctl(libc::PR_SET_DUMPABLE, 0);
const NNP: Step = Step::Prctl(libc::PR_SET_NO_NEW_PRIVS, 1);

#[test]
fn without_no_new_privs_the_filter_is_loaded_while_the_capabilities_are_still_there() {
    let id = Recorder::default();
    run(
        &id,
        &process(r#","rlimits":[{"type":"RLIMIT_NOFILE","hard":10,"soft":10}],"oomScoreAdj":5"#),
    )
    .unwrap();
    assert_eq!(
        id.steps(),
        vec![
            Step::Rlimits,
            Step::Oom(5),
            Step::Seccomp,
            Step::MakeCwd,
            Step::EnterCwd,
            Step::Privileged,
            Step::Bounding,
            KEEP_ON,
            Step::SwitchUser(1000),
            KEEP_OFF,
            Step::CapSets,
            NOT_DUMPABLE,
            Step::Umask(63),
            Step::Last,
        ]
    );
}

#[test]
fn with_no_new_privs_the_filter_comes_last_after_no_new_privs_is_set() {
    let id = Recorder::default();
    run(&id, &process(r#","noNewPrivileges":true"#)).unwrap();
    let steps = id.steps();
    let at = |s: &Step| steps.iter().position(|x| x == s).unwrap();
    assert_eq!(steps.iter().filter(|s| **s == Step::Seccomp).count(), 1);
    assert_eq!(steps.last(), Some(&Step::Seccomp));
    assert!(at(&NNP) > at(&Step::SwitchUser(1000)));
    assert!(at(&NNP) < at(&Step::Seccomp));
    assert!(at(&Step::Last) < at(&Step::Seccomp));
}

#[test]
fn the_cwd_is_entered_as_root_and_again_as_the_user_only_where_root_could_not() {
    // Root is refused the cwd (a root-squashed NFS directory): entered again after the switch.
    let id = Recorder::failing(|s| *s == Step::EnterCwd);
    let e = run(&id, &process("")).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EPERM), "{}", e);
    let steps = id.steps();
    let entries: Vec<usize> = (0..steps.len())
        .filter(|i| steps[*i] == Step::EnterCwd)
        .collect();
    let switch = steps
        .iter()
        .position(|s| *s == Step::SwitchUser(1000))
        .unwrap();
    assert_eq!(entries.len(), 2, "{:?}", steps);
    assert!(entries[0] < switch && entries[1] > switch, "{:?}", steps);
    // The second refusal is the error: nothing after it.
    assert_eq!(steps.last(), Some(&Step::EnterCwd));
}

#[test]
fn the_user_switch_is_made_with_capabilities_kept_and_a_refusal_stops_everything_after() {
    let id = Recorder::failing(|s| matches!(s, Step::SwitchUser(_)));
    let e = run(&id, &process(r#","noNewPrivileges":true"#)).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EPERM));
    let steps = id.steps();
    assert_eq!(
        &steps[steps.len() - 2..],
        &[KEEP_ON, Step::SwitchUser(1000)]
    );
    assert!(!steps.contains(&Step::CapSets));
    assert!(
        !steps.contains(&Step::Seccomp),
        "no filter after a failed switch"
    );
}

#[test]
fn a_process_without_rlimits_or_oom_score_skips_those_steps_and_gets_the_default_umask() {
    let id = Recorder::default();
    let p: Process =
        serde_json::from_str(r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}}"#).unwrap();
    run(&id, &p).unwrap();
    let steps = id.steps();
    assert!(!steps.contains(&Step::Rlimits) && !steps.iter().any(|s| matches!(s, Step::Oom(_))));
    assert!(steps.contains(&Step::Umask(0o022)));
}
