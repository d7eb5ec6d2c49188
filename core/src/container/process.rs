//! The process `exec` runs: a process JSON, or the container's own process with runc's `exec`
//! flags applied on top (args, env, cwd, user, groups, terminal, no_new_privs, capabilities).
//! Shared by the CLI and librune.

use crate::err;
use crate::error::Result;
use oci_spec::runtime::{Capability, Process, Spec};
use std::collections::HashSet;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct ProcessOverrides {
    pub args: Option<Vec<String>>,
    /// Added after the base environment.
    pub env: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub additional_gids: Vec<u32>,
    pub terminal: Option<bool>,
    pub no_new_privs: bool,
    /// Capability names (`CAP_X` or `X`), added to the bounding, effective and permitted sets.
    pub caps: Vec<String>,
}

fn capability(name: &str) -> Result<Capability> {
    let up = name.to_ascii_uppercase();
    let full = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{}", up)
    };
    serde_json::from_value(serde_json::Value::String(full))
        .map_err(|_| err!(InvalidArgument, "unknown capability {:?}", name))
}

/// A process JSON as `exec --process` takes it (`what` names its source in errors): one
/// without a `user` runs as the container's own user, as with runc.
pub fn process_from_json(text: &[u8], what: &str, config: &Spec) -> Result<Process> {
    let bad = |e: serde_json::Error| err!(InvalidSpec, "invalid process {}: {}", what, e);
    let mut v: serde_json::Value = serde_json::from_slice(text).map_err(bad)?;
    if let Some(obj) = v.as_object_mut().filter(|o| !o.contains_key("user")) {
        let user = config
            .process()
            .as_ref()
            .map(|p| serde_json::to_value(p.user()))
            .transpose()
            .map_err(bad)?
            .unwrap_or_else(|| serde_json::json!({"uid": 0, "gid": 0}));
        obj.insert("user".into(), user);
    }
    serde_json::from_value(v).map_err(bad)
}

/// `base` with `added` on top: a name given again takes the new value in its old place, as
/// runc's `exec --env` does (the command line wins over the config).
pub fn merge_env(base: Vec<String>, added: &[String]) -> Vec<String> {
    let name = |e: &str| e.split('=').next().unwrap_or("").to_string();
    let mut out = base;
    for a in added {
        match out.iter_mut().find(|e| name(e) == name(a)) {
            Some(e) => *e = a.clone(),
            None => out.push(a.clone()),
        }
    }
    out
}

impl ProcessOverrides {
    /// `base` is a process JSON given by the caller; without one the container's own process
    /// (from `config`) is the base, and args are required.
    pub fn apply(&self, base: Option<Process>, config: &Spec) -> Result<Process> {
        let mut p = match base {
            Some(p) => p,
            None if self.args.as_ref().is_none_or(|a| a.is_empty()) => {
                return Err(err!(InvalidArgument, "exec: no command given"))
            }
            None => config.process().clone().unwrap_or_default(),
        };
        if let Some(a) = &self.args {
            p.set_args(Some(a.clone()));
        }
        if let Some(t) = self.terminal {
            p.set_terminal(Some(t));
        }
        if !self.env.is_empty() {
            p.set_env(Some(merge_env(
                p.env().clone().unwrap_or_default(),
                &self.env,
            )));
        }
        if let Some(cwd) = &self.cwd {
            p.set_cwd(cwd.clone());
        }
        let mut user = p.user().clone();
        if let Some(uid) = self.uid {
            user.set_uid(uid);
        }
        if let Some(gid) = self.gid {
            user.set_gid(gid);
        }
        if !self.additional_gids.is_empty() {
            user.set_additional_gids(Some(self.additional_gids.clone()));
        }
        p.set_user(user);
        if self.no_new_privs {
            p.set_no_new_privileges(Some(true));
        }
        if !self.caps.is_empty() {
            let mut caps = p.capabilities().clone().unwrap_or_default();
            for name in &self.caps {
                let cap = capability(name)?;
                let add = |s: Option<HashSet<Capability>>| {
                    let mut s = s.unwrap_or_default();
                    s.insert(cap);
                    Some(s)
                };
                caps.set_bounding(add(caps.bounding().clone()));
                caps.set_effective(add(caps.effective().clone()));
                caps.set_permitted(add(caps.permitted().clone()));
            }
            p.set_capabilities(Some(caps));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        serde_json::from_str(
            r#"{"ociVersion":"1.2.0","process":{"args":["sleep","1"],"cwd":"/","user":{"uid":0,"gid":0},
                "env":["PATH=/bin"]},"root":{"path":"rootfs"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_variable_given_again_takes_the_new_value_in_place() {
        let base = vec!["A=1".to_string(), "B=2".to_string()];
        let out = merge_env(base, &["B=3".into(), "C=4".into(), "A=5".into()]);
        assert_eq!(out, ["A=5", "B=3", "C=4"]);
    }

    #[test]
    fn a_process_json_without_user_takes_the_containers() {
        let mut s = spec();
        s.process_mut().as_mut().unwrap().user_mut().set_uid(1000);
        let p = process_from_json(br#"{"args":["id"],"cwd":"/"}"#, "JSON", &s).unwrap();
        assert_eq!(p.user().uid(), 1000);
        let p = process_from_json(
            br#"{"args":["id"],"cwd":"/","user":{"uid":5,"gid":5}}"#,
            "JSON",
            &s,
        )
        .unwrap();
        assert_eq!(p.user().uid(), 5);
        assert!(process_from_json(b"{", "JSON", &s).is_err());
    }

    #[test]
    fn flags_apply_over_the_containers_process() {
        let o = ProcessOverrides {
            args: Some(vec!["id".into()]),
            env: vec!["A=b".into()],
            uid: Some(7),
            caps: vec!["sys_admin".into()],
            terminal: Some(false),
            ..Default::default()
        };
        let p = o.apply(None, &spec()).unwrap();
        assert_eq!(p.args().as_ref().unwrap(), &vec!["id".to_string()]);
        assert_eq!(p.env().as_ref().unwrap().len(), 2);
        assert_eq!(p.user().uid(), 7);
        assert!(p
            .capabilities()
            .as_ref()
            .unwrap()
            .bounding()
            .as_ref()
            .unwrap()
            .contains(&Capability::SysAdmin));
    }

    #[test]
    fn no_command_is_an_error_and_bad_caps_are_named() {
        assert!(ProcessOverrides::default().apply(None, &spec()).is_err());
        let o = ProcessOverrides {
            args: Some(vec!["x".into()]),
            caps: vec!["nope".into()],
            ..Default::default()
        };
        assert!(o
            .apply(None, &spec())
            .unwrap_err()
            .to_string()
            .contains("nope"));
    }
}
