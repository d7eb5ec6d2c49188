//! The recording kernel of the unit tests (see `Fake`).

use super::*;
use std::cell::{Cell, RefCell};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One call the fake was asked to make. Paths through a descriptor (`/proc/self/fd/N`, and
/// every fd argument) are recorded as the file the descriptor names, read when the call
/// is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Mount {
        src: Option<PathBuf>,
        target: PathBuf,
        fstype: Option<String>,
        flags: libc::c_ulong,
        data: Option<String>,
    },
    MountSetattr {
        target: PathBuf,
        recursive: bool,
        set: u64,
        clear: u64,
    },
    MountFlags(PathBuf),
    Mountinfo,
    MoveMount {
        tree: PathBuf,
        target: PathBuf,
    },
    Umount2 {
        target: PathBuf,
        flags: i32,
    },
    PivotRoot {
        new_root: PathBuf,
        put_old: PathBuf,
    },
    Chdir(PathBuf),
    Fchdir(PathBuf),
    Chroot(PathBuf),
    Mknod {
        path: PathBuf,
        kind: libc::mode_t,
        mode: libc::mode_t,
        dev: libc::dev_t,
    },
    Symlink {
        target: PathBuf,
        link: PathBuf,
    },
    ChmodChown {
        path: PathBuf,
        mode: libc::mode_t,
        uid: u32,
        gid: u32,
    },
    Setns {
        path: PathBuf,
        nstype: i32,
    },
    Unshare(i32),
    Sethostname(String),
    Setdomainname(String),
    BecomeRoot,
}

impl Call {
    /// A mount(2) call, for expected values in tests.
    pub fn mount(
        src: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
    ) -> Call {
        Call::Mount {
            src: src.map(Path::to_path_buf),
            target: target.to_path_buf(),
            fstype: fstype.map(str::to_string),
            flags,
            data: data.map(str::to_string),
        }
    }

    /// The target of a call that names one (a mount's, a setns's namespace file, ...).
    pub fn target(&self) -> Option<&Path> {
        match self {
            Call::Mount { target, .. }
            | Call::MountSetattr { target, .. }
            | Call::MoveMount { target, .. }
            | Call::Umount2 { target, .. } => Some(target),
            Call::MountFlags(p) | Call::Chdir(p) | Call::Fchdir(p) | Call::Chroot(p) => Some(p),
            Call::PivotRoot { new_root, .. } => Some(new_root),
            Call::Mknod { path, .. } | Call::ChmodChown { path, .. } | Call::Setns { path, .. } => {
                Some(path)
            }
            Call::Symlink { link, .. } => Some(link),
            Call::Mountinfo
            | Call::Unshare(_)
            | Call::Sethostname(_)
            | Call::Setdomainname(_)
            | Call::BecomeRoot => None,
        }
    }
}

type Rule = (Box<dyn Fn(&Call) -> bool>, i32);

/// A recording kernel: every call is recorded with its arguments, in order, and succeeds
/// unless a rule given to [`Fake::fail`] matches it (a failed call is recorded too).
/// Nothing reaches the kernel except a readlink of /proc/self/fd to name descriptors, and
/// `mknodat`, which leaves an empty regular file in its place so that the steps after it
/// (which open the node) find one.
#[derive(Default)]
pub struct Fake {
    calls: RefCell<Vec<Call>>,
    rules: Vec<Rule>,
    flags: Cell<libc::c_ulong>,
    mountinfo: String,
}

impl Fake {
    pub fn new() -> Fake {
        Fake::default()
    }

    /// Fails, with `errno`, every call `pred` matches.
    pub fn fail(mut self, pred: impl Fn(&Call) -> bool + 'static, errno: i32) -> Fake {
        self.rules.push((Box::new(pred), errno));
        self
    }

    /// What `mount_flags` reports for every mount.
    pub fn mount_flags_are(self, flags: libc::c_ulong) -> Fake {
        self.flags.set(flags);
        self
    }

    /// What `mountinfo` reports.
    pub fn mountinfo_is(mut self, text: &str) -> Fake {
        self.mountinfo = text.to_string();
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// The mount(2) calls so far, in order.
    pub fn mounts(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| matches!(c, Call::Mount { .. }))
            .collect()
    }

    fn record(&self, call: Call, what: What) -> Result<()> {
        let errno = self.rules.iter().find(|(p, _)| p(&call)).map(|(_, e)| *e);
        self.calls.borrow_mut().push(call);
        match errno {
            Some(e) => Err(Error::os(what(), e)),
            None => Ok(()),
        }
    }
}

/// The file `fd` names.
fn fd_file(fd: RawFd) -> PathBuf {
    std::fs::read_link(crate::sys::fd_path(fd))
        .unwrap_or_else(|_| PathBuf::from(format!("<fd {}>", fd)))
}

/// `p`, or the file it names when it is a path through /proc/self/fd/N.
fn shown(p: &Path) -> PathBuf {
    let Ok(rest) = p.strip_prefix("/proc/self/fd") else {
        return p.to_path_buf();
    };
    let mut parts = rest.components();
    let fd = parts
        .next()
        .and_then(|n| n.as_os_str().to_str()?.parse().ok());
    match fd {
        Some(fd) => fd_file(fd).join(parts.as_path()),
        None => p.to_path_buf(),
    }
}

fn under(dir: RawFd, name: &CStr) -> PathBuf {
    fd_file(dir).join(OsStr::from_bytes(name.to_bytes()))
}

impl Syscall for Fake {
    fn mount(
        &self,
        src: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
        what: What,
    ) -> Result<()> {
        // An empty data string is no data, to the kernel as to sys::mount.
        let data = data.filter(|d| !d.is_empty());
        let call = Call::mount(
            src.map(shown).as_deref(),
            &shown(target),
            fstype,
            flags,
            data,
        );
        self.record(call, what)
    }

    fn mount_setattr(
        &self,
        fd: RawFd,
        recursive: bool,
        set: u64,
        clear: u64,
        what: What,
    ) -> Result<()> {
        let target = fd_file(fd);
        let call = Call::MountSetattr {
            target,
            recursive,
            set,
            clear,
        };
        self.record(call, what)
    }

    fn mount_flags(&self, path: &Path) -> Result<libc::c_ulong> {
        let call = Call::MountFlags(shown(path));
        self.record(call, &|| format!("statfs {}", path.display()))?;
        Ok(self.flags.get())
    }

    fn mountinfo(&self) -> Result<String> {
        self.record(Call::Mountinfo, &|| "read mountinfo".into())?;
        Ok(self.mountinfo.clone())
    }

    fn move_mount_onto(&self, tree: RawFd, target: RawFd, what: What) -> Result<()> {
        let (tree, target) = (fd_file(tree), fd_file(target));
        self.record(Call::MoveMount { tree, target }, what)
    }

    fn umount2(&self, target: &Path, flags: i32, what: What) -> Result<()> {
        let target = shown(target);
        self.record(Call::Umount2 { target, flags }, what)
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path, what: What) -> Result<()> {
        let (new_root, put_old) = (shown(new_root), shown(put_old));
        self.record(Call::PivotRoot { new_root, put_old }, what)
    }

    fn chdir(&self, path: &Path, what: What) -> Result<()> {
        self.record(Call::Chdir(shown(path)), what)
    }

    fn fchdir(&self, dir: BorrowedFd<'_>, what: What) -> Result<()> {
        self.record(Call::Fchdir(fd_file(dir.as_raw_fd())), what)
    }

    fn chroot(&self, path: &Path, what: What) -> Result<()> {
        self.record(Call::Chroot(shown(path)), what)
    }

    fn mknodat(
        &self,
        dir: RawFd,
        name: &CStr,
        kind: libc::mode_t,
        mode: libc::mode_t,
        dev: libc::dev_t,
        what: What,
    ) -> Result<()> {
        let path = under(dir, name);
        self.record(
            Call::Mknod {
                path,
                kind,
                mode,
                dev,
            },
            what,
        )?;
        crate::sys::at::create_excl_at(dir, name, 0o600).map_err(|e| Error::io(what(), e))
    }

    fn symlinkat(&self, target: &CStr, dir: RawFd, name: &CStr, what: What) -> Result<()> {
        let target = PathBuf::from(OsStr::from_bytes(target.to_bytes()));
        let link = under(dir, name);
        self.record(Call::Symlink { target, link }, what)
    }

    fn chmod_chown_fd(&self, fd: RawFd, mode: libc::mode_t, uid: u32, gid: u32) -> Result<()> {
        let path = fd_file(fd);
        let call = Call::ChmodChown {
            path,
            mode,
            uid,
            gid,
        };
        self.record(call, &|| "chown".into())
    }

    fn setns(&self, fd: BorrowedFd<'_>, nstype: i32, what: What) -> Result<()> {
        let path = fd_file(fd.as_raw_fd());
        self.record(Call::Setns { path, nstype }, what)
    }

    fn unshare(&self, flags: i32, what: What) -> Result<()> {
        self.record(Call::Unshare(flags), what)
    }

    fn sethostname(&self, name: &str, what: What) -> Result<()> {
        self.record(Call::Sethostname(name.into()), what)
    }

    fn setdomainname(&self, name: &str, what: What) -> Result<()> {
        self.record(Call::Setdomainname(name.into()), what)
    }

    fn become_root(&self, what: What) -> Result<()> {
        self.record(Call::BecomeRoot, what)
    }
}
