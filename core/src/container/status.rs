//! Container statuses and the rules for moving between them.

use crate::store::{State, Store, EXEC_FIFO};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }

    pub fn can_start(self) -> bool {
        self == Status::Created
    }

    pub fn can_kill(self) -> bool {
        matches!(self, Status::Created | Status::Running | Status::Paused)
    }

    pub fn can_exec(self) -> bool {
        matches!(self, Status::Created | Status::Running)
    }
}

/// Derives the status: stopped when the init is gone (or a zombie, or its pid was reused),
/// created while the exec fifo exists, paused when the freezer says so, else running.
pub fn derive(store: &Store, s: &State) -> Status {
    if !crate::procfs::is_alive(s.init_pid, s.init_start_time) {
        return Status::Stopped;
    }
    if store.dir_of(&s.id).join(EXEC_FIFO).exists() {
        return Status::Created;
    }
    if let Some(path) = &s.cgroup_path {
        if crate::cgroups::manager(path).is_frozen() {
            return Status::Paused;
        }
    }
    Status::Running
}
