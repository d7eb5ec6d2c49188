//! What crosses rune's sockets whatever the protocol: typed channel ends, and errors as they
//! travel. Below the init's protocol (`process::message`) and the enclave keeper's
//! (`enclave::protocol`), which both use it.

pub mod channel;

use serde::{Deserialize, Serialize};

/// An error as it crosses a socket: kind, errno and message, so the other side rebuilds it.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireError {
    pub kind: crate::ErrorKind,
    pub errno: Option<i32>,
    pub msg: String,
}

impl WireError {
    pub fn from_error(e: &crate::Error) -> Self {
        WireError {
            kind: e.kind(),
            errno: e.errno(),
            msg: e.message().to_string(),
        }
    }

    pub fn into_error(self) -> crate::Error {
        crate::Error::new(self.kind, self.msg).with_errno(self.errno)
    }
}
