//! Resource limits (setrlimit(2)), by the names config.json gives them.

use nix::sys::resource::Resource;
use std::io;

/// A resource setrlimit limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(Resource);

impl Limit {
    /// The resource called `name` ("RLIMIT_NOFILE", ...), or None when there is none.
    pub fn by_name(name: &str) -> Option<Limit> {
        Some(Limit(match name {
            "RLIMIT_CPU" => Resource::RLIMIT_CPU,
            "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
            "RLIMIT_DATA" => Resource::RLIMIT_DATA,
            "RLIMIT_STACK" => Resource::RLIMIT_STACK,
            "RLIMIT_CORE" => Resource::RLIMIT_CORE,
            "RLIMIT_RSS" => Resource::RLIMIT_RSS,
            "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
            "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
            "RLIMIT_MEMLOCK" => Resource::RLIMIT_MEMLOCK,
            "RLIMIT_AS" => Resource::RLIMIT_AS,
            "RLIMIT_LOCKS" => Resource::RLIMIT_LOCKS,
            "RLIMIT_SIGPENDING" => Resource::RLIMIT_SIGPENDING,
            "RLIMIT_MSGQUEUE" => Resource::RLIMIT_MSGQUEUE,
            "RLIMIT_NICE" => Resource::RLIMIT_NICE,
            "RLIMIT_RTPRIO" => Resource::RLIMIT_RTPRIO,
            "RLIMIT_RTTIME" => Resource::RLIMIT_RTTIME,
            _ => return None,
        }))
    }
}

/// setrlimit(2): this process's `soft` and `hard` limits of `limit`.
pub fn set(limit: Limit, soft: u64, hard: u64) -> io::Result<()> {
    nix::sys::resource::setrlimit(limit.0, soft, hard).map_err(io::Error::from)
}
