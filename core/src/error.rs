//! One error type for the whole crate: a kind (stable, mapped to C result codes by capi), a
//! message that names the cause, and the errno when an OS call failed.

use std::fmt;

/// The category of an error. New kinds may be added; existing ones never change meaning.
/// It crosses the init's and the enclave keeper's sockets by name (serde): a kind one side
/// does not know is a decoding error there, never another kind. Not `non_exhaustive`: every
/// match on it (librune's result codes) must name each kind, so a new one cannot fall into a
/// catch-all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrorKind {
    /// The container (or a file it needs) does not exist.
    NotFound,
    /// A container with this id exists already.
    AlreadyExists,
    /// The operation is not valid in the container's current status.
    InvalidState,
    /// config.json or process.json is malformed or violates the spec.
    InvalidSpec,
    /// A bad argument: container id, signal name, option value.
    InvalidArgument,
    /// The operation was refused by the OS or by policy.
    PermissionDenied,
    /// A system call failed; `errno` says which error.
    Os,
    /// The enclave runtime (PAL) failed.
    Enclave,
    /// A hook of the config failed or timed out (runc's "error running hook").
    Hook,
    /// A bug or an unexpected state inside rune.
    Internal,
}

impl ErrorKind {
    /// Every kind, in the order declared: for tests that must cover each one.
    pub fn all() -> impl Iterator<Item = ErrorKind> {
        std::iter::successors(Some(ErrorKind::NotFound), |k| k.next())
    }

    /// The kind declared after this one. The match names every kind, so a new one does not
    /// compile until it is put in the sequence (a test checks the sequence against serde's).
    fn next(self) -> Option<ErrorKind> {
        use ErrorKind::*;
        match self {
            NotFound => Some(AlreadyExists),
            AlreadyExists => Some(InvalidState),
            InvalidState => Some(InvalidSpec),
            InvalidSpec => Some(InvalidArgument),
            InvalidArgument => Some(PermissionDenied),
            PermissionDenied => Some(Os),
            Os => Some(Enclave),
            Enclave => Some(Hook),
            Hook => Some(Internal),
            Internal => None,
        }
    }
}

/// What an error stands for where rune acts on it rather than only reporting it; kept through
/// `context`, so no message wording is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The other end of a channel closed it (the host that gave up on an init): that side
    /// reports its own error.
    PeerClosed,
}

/// An error with its kind, the full message chain and the errno when one is known.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
    errno: Option<i32>,
    /// The OS error of `errno`, as the source of this one.
    os: Option<std::sync::Arc<std::io::Error>>,
    cause: Option<Cause>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
            errno: None,
            os: None,
            cause: None,
        }
    }

    /// An OS error: `what` names the call and its object, `errno` the failure.
    pub fn os(what: impl Into<String>, errno: i32) -> Self {
        let kind = match errno {
            libc::ENOENT => ErrorKind::NotFound,
            libc::EPERM | libc::EACCES => ErrorKind::PermissionDenied,
            _ => ErrorKind::Os,
        };
        let desc = errno_desc(errno);
        Error {
            kind,
            msg: format!("{}: {}", what.into(), desc),
            errno: Some(errno),
            os: Some(std::sync::Arc::new(std::io::Error::from_raw_os_error(
                errno,
            ))),
            cause: None,
        }
    }

    /// Wraps a std::io::Error with what was being done.
    pub fn io(what: impl Into<String>, err: std::io::Error) -> Self {
        match err.raw_os_error() {
            Some(errno) => Error::os(what, errno),
            None => Error::new(ErrorKind::Os, format!("{}: {}", what.into(), err)),
        }
    }

    pub fn with_errno(mut self, errno: Option<i32>) -> Self {
        self.errno = errno;
        self.os = errno.map(|e| std::sync::Arc::new(std::io::Error::from_raw_os_error(e)));
        self
    }

    /// The other end of a channel closed it (`what` names the channel): EPIPE, with
    /// [`Cause::PeerClosed`].
    pub fn peer_closed(what: impl Into<String>) -> Self {
        Error {
            cause: Some(Cause::PeerClosed),
            ..Error::os(what, libc::EPIPE)
        }
    }

    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    pub fn message(&self) -> &str {
        &self.msg
    }

    /// Prefixes the message with what the caller was doing.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.msg = format!("{}: {}", what, self.msg);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// The source chain: an error with an errno has the OS error as its source (the message
/// already names it; the source lets a caller match on `std::io::ErrorKind`).
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.os.as_deref().map(|e| e as _)
    }
}

impl From<nix::Error> for Error {
    fn from(e: nix::Error) -> Self {
        Error::os("system call", e as i32)
    }
}

/// Adds context to results, like `anyhow::Context` but keeping the kind.
pub trait Context<T> {
    fn context(self, what: impl fmt::Display) -> Result<T>;
    fn with_context<D: fmt::Display>(self, f: impl FnOnce() -> D) -> Result<T>;
}

impl<T> Context<T> for Result<T> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(what))
    }
    fn with_context<D: fmt::Display>(self, f: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| e.context(f()))
    }
}

impl<T> Context<T> for std::result::Result<T, nix::Error> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::os(what.to_string(), e as i32))
    }
    fn with_context<D: fmt::Display>(self, f: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| Error::os(f().to_string(), e as i32))
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::io(what.to_string(), e))
    }
    fn with_context<D: fmt::Display>(self, f: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| Error::io(f().to_string(), e))
    }
}

/// Shorthand for an error of a kind with a formatted message.
#[macro_export]
macro_rules! err {
    ($kind:ident, $($arg:tt)*) => {
        $crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($arg)*))
    };
}

/// The text of an io error without Rust's " (os error N)" suffix: "No such file or directory".
pub fn io_desc(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

/// The text of an errno value, as `io_desc` gives it.
pub fn errno_desc(errno: i32) -> String {
    io_desc(&std::io::Error::from_raw_os_error(errno))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// `all` against the type itself: serde's error for an unknown variant lists every one.
    #[test]
    fn all_is_every_kind() {
        let e = serde_json::from_str::<ErrorKind>("\"NoSuchKind\"").unwrap_err();
        let msg = e.to_string();
        let list = msg
            .split("expected one of ")
            .nth(1)
            .expect("serde lists the variants");
        // `A`, `B`, ... `Z` at line 1 column 12: the names are between the backquotes.
        let names: Vec<String> = list
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect();
        let all: Vec<String> = ErrorKind::all().map(|k| format!("{k:?}")).collect();
        assert_eq!(all, names, "{msg}");
    }

    #[test]
    fn an_os_error_has_its_errno_as_source() {
        let e = Error::os("open /x", libc::ENOENT).context("load config");
        let src = e.source().expect("a source");
        let io = src.downcast_ref::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.raw_os_error(), Some(libc::ENOENT));
        assert_eq!(
            e.message(),
            "load config: open /x: No such file or directory"
        );
    }

    #[test]
    fn an_error_rebuilt_with_an_errno_keeps_the_chain() {
        let e = Error::new(ErrorKind::Os, "m").with_errno(Some(libc::EBUSY));
        let io = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(io.and_then(|i| i.raw_os_error()), Some(libc::EBUSY));
        assert!(Error::new(ErrorKind::Internal, "m").source().is_none());
    }
}
