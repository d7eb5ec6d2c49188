//! The one place that knows how a PAL reports what the PAL API leaves open: errors, exit values
//! and process ids differ between the spec's skeleton, Occlum and WAMR (see
//! ../shared/reference/pal/README.md). The convention is guessed from what the library exports
//! (`occlum_pal_*`, `wamr_pal_*`, else the spec's defaults) and the annotation
//! `enclave.runtime.exit-status` overrides the guess for exit values.
//!
//! | | spec (skeleton) | Occlum | WAMR |
//! |---|---|---|---|
//! | failure | any non-zero return (-errno, or -1 with errno) | -1, errno | non-zero (pal_init: 1) |
//! | `*exit_value` | exit code (0-255; 128+N for a signal death) | wait(2) status | never written: 0 |
//! | `*pid` | written | written | never written: 0 |
//!
//! Out-parameters are set to [`UNSET`] before each call, so a value the PAL never wrote is
//! known as such: under the spec's and Occlum's conventions that is an error naming the call,
//! under WAMR's it is the documented 0.

use crate::err;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// What an out-parameter holds before the call: no PAL writes this value.
pub const UNSET: i32 = i32::MIN;

/// How `pal_exec` reports the end of a process in `*exit_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// An exit code: 0-255, 128+N for a death by signal N. A value above 255 cannot be one and
    /// is read as a wait(2) status.
    Code,
    /// A wait(2) status: exit 3 is 768, killed by SIGKILL is 9.
    WaitStatus,
}

impl ExitStatus {
    /// The annotation's values: `code` or `wait-status`.
    pub fn parse(s: &str) -> Result<ExitStatus> {
        match s {
            "code" => Ok(ExitStatus::Code),
            "wait-status" => Ok(ExitStatus::WaitStatus),
            _ => Err(err!(
                InvalidSpec,
                "enclave.runtime.exit-status {:?}: valid values are code, wait-status",
                s
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ExitStatus::Code => "code",
            ExitStatus::WaitStatus => "wait-status",
        }
    }
}

/// Whose conventions a PAL follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Spec,
    Occlum,
    Wamr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Convention {
    pub flavor: Flavor,
    pub exit: ExitStatus,
}

impl Convention {
    /// From the library's exports (`has` tells whether a symbol exists) and the annotation.
    pub fn detect(has: impl Fn(&str) -> bool, exit: Option<ExitStatus>) -> Convention {
        let flavor = if has("occlum_pal_init") {
            Flavor::Occlum
        } else if has("wamr_pal_init") {
            Flavor::Wamr
        } else {
            Flavor::Spec
        };
        let guess = match flavor {
            Flavor::Occlum => ExitStatus::WaitStatus,
            Flavor::Spec | Flavor::Wamr => ExitStatus::Code,
        };
        Convention {
            flavor,
            exit: exit.unwrap_or(guess),
        }
    }

    /// The exit code (0-255, 128+N for signal N) of what `call` stored in `*exit_value`.
    pub fn exit_code(&self, call: &str, value: i32) -> Result<i32> {
        if value == UNSET {
            return match self.flavor {
                Flavor::Wamr => Ok(0),
                _ => Err(err!(
                    Enclave,
                    "enclave runtime: {}() returned 0 but did not set *exit_value",
                    call
                )),
            };
        }
        if value < 0 {
            return Err(err!(
                Enclave,
                "enclave runtime: {}() reported an invalid exit value {}",
                call,
                value
            ));
        }
        Ok(match self.exit {
            ExitStatus::Code if value <= 255 => value,
            _ => decode_wait_status(value),
        })
    }

    /// The PAL's id of a process `pal_create_process` made, from what it stored in `*pid`.
    pub fn process_id(&self, value: i32) -> Result<i32> {
        match (value, self.flavor) {
            (UNSET, Flavor::Wamr) => Ok(0),
            (UNSET, _) => Err(err!(
                Enclave,
                "enclave runtime: pal_create_process() returned 0 but did not set *pid"
            )),
            (v, _) => Ok(v),
        }
    }
}

fn decode_wait_status(v: i32) -> i32 {
    if libc::WIFSIGNALED(v) {
        128 + libc::WTERMSIG(v)
    } else {
        libc::WEXITSTATUS(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(flavor: Flavor, exit: ExitStatus) -> Convention {
        Convention { flavor, exit }
    }

    #[test]
    fn detected_from_the_exports_and_overridden_by_the_annotation() {
        let occlum = |s: &str| s == "occlum_pal_init";
        let wamr = |s: &str| s == "wamr_pal_init";
        let none = |_: &str| false;
        let c = Convention::detect(occlum, None);
        assert_eq!((c.flavor, c.exit), (Flavor::Occlum, ExitStatus::WaitStatus));
        let c = Convention::detect(wamr, None);
        assert_eq!((c.flavor, c.exit), (Flavor::Wamr, ExitStatus::Code));
        let c = Convention::detect(none, Some(ExitStatus::WaitStatus));
        assert_eq!((c.flavor, c.exit), (Flavor::Spec, ExitStatus::WaitStatus));
        assert!(ExitStatus::parse("wait-status").is_ok());
        assert!(ExitStatus::parse("status").is_err());
    }

    #[test]
    fn a_signal_death_is_128_plus_n_under_every_convention() {
        let code = conv(Flavor::Spec, ExitStatus::Code);
        let wait = conv(Flavor::Occlum, ExitStatus::WaitStatus);
        assert_eq!(code.exit_code("pal_exec", 137).unwrap(), 137);
        assert_eq!(wait.exit_code("pal_exec", 9).unwrap(), 137);
        assert_eq!(wait.exit_code("pal_exec", 15).unwrap(), 143);
        assert_eq!(wait.exit_code("pal_exec", 3 << 8).unwrap(), 3);
        assert_eq!(wait.exit_code("pal_exec", 0).unwrap(), 0);
        assert_eq!(code.exit_code("pal_exec", 3).unwrap(), 3);
        assert_eq!(code.exit_code("pal_exec", 3 << 8).unwrap(), 3);
        assert!(code.exit_code("pal_exec", -1).is_err());
    }

    #[test]
    fn values_the_pal_never_wrote_are_defined() {
        let spec = conv(Flavor::Spec, ExitStatus::Code);
        let wamr = conv(Flavor::Wamr, ExitStatus::Code);
        assert!(spec.exit_code("pal_exec", UNSET).is_err());
        assert_eq!(wamr.exit_code("pal_exec", UNSET).unwrap(), 0);
        assert!(spec.process_id(UNSET).is_err());
        assert_eq!(wamr.process_id(UNSET).unwrap(), 0);
        assert_eq!(spec.process_id(42).unwrap(), 42);
    }
}
