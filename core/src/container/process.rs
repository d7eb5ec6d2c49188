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
            let mut env = p.env().clone().unwrap_or_default();
            env.extend(self.env.iter().cloned());
            p.set_env(Some(env));
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
