//! Thin wrappers over the system calls the init uses, each error naming the call and its object.

// The OS layer: the one place (with enclave::pal) where unsafe code may stand.
#![allow(unsafe_code)]

pub mod at;
pub mod bpf;
pub mod caps;
pub mod clone;
pub mod devnum;
pub mod exec;
pub mod fd;
pub mod fdpass;
pub mod fifo;
pub mod flock;
pub mod mem;
pub mod net;
pub mod peercred;
pub mod poll;
pub mod process;
pub mod rlimit;
pub mod sched;
pub mod seccomp;
pub mod session;
pub mod signal;
pub mod signalfd;
pub mod socket;
pub mod startup;
pub mod syscall;
pub mod tty;
pub mod user;
pub mod userns;
pub mod wasm_engine;

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub fn cstr(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| crate::err!(InvalidArgument, "path {:?} contains NUL", p))
}

fn last(what: String) -> Error {
    Error::io(what, std::io::Error::last_os_error())
}

/// mount(2). `what` names the mount for the error message.
pub fn mount(
    src: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
    what: &dyn Fn() -> String,
) -> Result<()> {
    let src = src.map(cstr).transpose()?;
    let target_c = cstr(target)?;
    let fstype = fstype.map(|s| CString::new(s).unwrap_or_default());
    let data = data
        .filter(|d| !d.is_empty())
        .map(|s| CString::new(s).unwrap_or_default());
    // SAFETY: every pointer is a valid NUL-terminated string or null.
    let r = unsafe {
        libc::mount(
            src.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            target_c.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr() as *const libc::c_void),
        )
    };
    if r != 0 {
        return Err(last(what()));
    }
    Ok(())
}

/// mount_setattr(2) on the mount whose root the descriptor `fd` names (AT_EMPTY_PATH; an
/// O_PATH fd will do): sets the MOUNT_ATTR_* bits of `set` and clears those of `clear`, on
/// every mount below it too when `recursive` (AT_RECURSIVE).
pub fn mount_setattr(
    fd: RawFd,
    recursive: bool,
    set: u64,
    clear: u64,
    what: &dyn Fn() -> String,
) -> Result<()> {
    setattr(fd, recursive, set, clear, None).map_err(|e| Error::io(what(), e))
}

/// mount_setattr(2) with a mount_attr of these fields (`userns`: for MOUNT_ATTR_IDMAP).
pub(crate) fn setattr(
    fd: RawFd,
    recursive: bool,
    set: u64,
    clear: u64,
    userns: Option<RawFd>,
) -> std::io::Result<()> {
    // SAFETY: mount_attr is plain data; zero is its default.
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = set;
    attr.attr_clr = clear;
    attr.userns_fd = userns.map_or(0, |u| u as u64);
    let mut flags = libc::AT_EMPTY_PATH;
    if recursive {
        flags |= libc::AT_RECURSIVE;
    }
    // SAFETY: a valid fd, an empty NUL-terminated path and a mount_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            flags as libc::c_uint,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The MS_* flags among a statfs `f_flags` value (ST_*, the same bits) that a bind's remount
/// must keep, as the kernel may have locked them: nosuid, nodev, noexec and the atime ones.
/// Pure bit work: the spawned init's child uses it between clone and execve.
pub const fn kept_mount_flags(f: libc::c_ulong) -> libc::c_ulong {
    let mut out = f
        & (libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC
            | libc::MS_NOATIME
            | libc::MS_NODIRATIME);
    // ST_RELATIME
    if f & 4096 != 0 {
        out |= libc::MS_RELATIME;
    }
    out
}

/// The mount flags (MS_*) of the mount holding `path`, as statfs reports them.
pub fn mount_flags(path: &Path) -> Result<libc::c_ulong> {
    let c = cstr(path)?;
    // SAFETY: zeroed statfs is a valid out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(last(format!("statfs {}", path.display())));
    }
    let f = st.f_flag as libc::c_ulong;
    let mut out = kept_mount_flags(f) | (f & libc::MS_RDONLY);
    // ST_NOSYMFOLLOW: a bind's remount keeps its source's nosymfollow unless told otherwise.
    if f & 0x2000 != 0 {
        out |= libc::MS_NOSYMFOLLOW;
    }
    Ok(out)
}

/// Opens `path` below the directory `root` as if `root` were `/` (symlinks and `..` cannot
/// leave it), returning an O_PATH descriptor.
pub fn open_in_root(root: RawFd, path: &Path, flags: i32) -> Result<OwnedFd> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let c = cstr(rel)?;
    // SAFETY: open_how is plain data; zero is its default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 with a valid dirfd, path and open_how of the right size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(last(format!("open {} in the container", path.display())));
    }
    // SAFETY: a new descriptor owned by us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `/proc/self/fd/N`: a path naming exactly the file an fd refers to.
pub fn fd_path(fd: RawFd) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/proc/self/fd/{}", fd))
}

pub fn prctl(op: i32, arg: libc::c_ulong, what: &str) -> Result<()> {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(op, arg, 0, 0, 0) } != 0 {
        return Err(last(what.to_string()));
    }
    Ok(())
}

/// Closes every descriptor from `floor` up except those in `keep` (really closes them, not
/// close-on-exec: a process that never execs, such as the enclave keeper, must not keep them).
///
/// For a `rune init` only, hence not public: there, every descriptor from `floor` up that a
/// live value owns (its channel, what the host passed) is in `keep`, and the others are the
/// caller's, inherited and owned by nothing. Anywhere else it would close descriptors under
/// the values that own them.
pub(crate) fn close_fds_from(floor: RawFd, keep: &[RawFd]) -> Result<()> {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|fd| *fd >= floor).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut from = floor as u32;
    for k in keep
        .iter()
        .map(|k| *k as u32)
        .chain(std::iter::once(u32::MAX))
    {
        if k > from {
            let to = if k == u32::MAX { u32::MAX } else { k - 1 };
            // SAFETY: close_range on a range of a rune init's descriptors, none of them owned by
            // a live value (see above; the kept ones are outside every range).
            if unsafe { libc::syscall(libc::SYS_close_range, from, to, 0u32) } != 0 {
                return Err(last(format!("close descriptors {}..={}", from, to)));
            }
        }
        from = k.saturating_add(1);
    }
    Ok(())
}

/// chdir to `cwd`, then checks that the working directory lies inside this process's root:
/// a path through a magic link (`/proc/self/fd/N`) of a directory outside it would leave the
/// process on the host (CVE-2024-21626); getcwd then reports it unreachable.
pub fn enter_cwd(cwd: &Path) -> Result<()> {
    if !cwd.is_absolute() {
        return Err(crate::err!(
            InvalidSpec,
            "process.cwd {:?} is not an absolute path",
            cwd
        ));
    }
    nix::unistd::chdir(cwd)
        .map_err(|e| Error::os(format!("chdir to cwd {}", cwd.display()), e as i32))?;
    match std::env::current_dir() {
        Ok(p) if p.is_absolute() => Ok(()),
        _ => Err(crate::err!(
            PermissionDenied,
            "chdir to cwd {}: the directory is outside the container's root",
            cwd.display()
        )),
    }
}

/// open_tree(OPEN_TREE_CLONE): a detached copy of the mount at `path` (with its submounts when
/// `recursive`), to be attached elsewhere with `move_mount`, from another mount namespace and
/// user namespace too.
pub fn open_tree_clone(path: &Path, recursive: bool) -> Result<OwnedFd> {
    const OPEN_TREE_CLONE: u32 = 1;
    let c = cstr(path)?;
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: open_tree with a valid path; returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if fd < 0 {
        return Err(last(format!("open_tree {}", path.display())));
    }
    // SAFETY: a new descriptor owned by us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// move_mount: attaches the detached mount `tree` on the directory (or file) `target` is an
/// O_PATH descriptor of.
pub fn move_mount_onto(tree: RawFd, target: RawFd, what: &dyn Fn() -> String) -> Result<()> {
    const F_EMPTY_PATH: u32 = 0x4;
    const T_EMPTY_PATH: u32 = 0x40;
    // SAFETY: move_mount between two descriptors we hold, with empty paths.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            target,
            c"".as_ptr(),
            F_EMPTY_PATH | T_EMPTY_PATH,
        )
    };
    if r != 0 {
        return Err(last(what()));
    }
    Ok(())
}

/// A NULL-terminated array of pointers to C strings (argv, envp, a PAL's `char **`): the one
/// such type in rune. Valid while the strings it was made from live, which the borrow keeps.
pub struct CStrArray<'a> {
    ptrs: Vec<*mut libc::c_char>,
    _strings: std::marker::PhantomData<&'a [CString]>,
}

impl<'a> CStrArray<'a> {
    pub fn new(items: &'a [CString]) -> CStrArray<'a> {
        let ptrs = items
            .iter()
            .map(|c| c.as_ptr() as *mut libc::c_char)
            .chain(std::iter::once(std::ptr::null_mut()))
            .collect();
        CStrArray {
            ptrs,
            _strings: std::marker::PhantomData,
        }
    }

    pub fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr() as *const *const libc::c_char
    }

    /// For C APIs that take `char **` (they must not write through it).
    pub fn as_mut_ptr(&mut self) -> *mut *mut libc::c_char {
        self.ptrs.as_mut_ptr()
    }
}

/// The effective uid of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// The real uid of this process.
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

/// The real gid of this process.
pub fn gid() -> u32 {
    // SAFETY: getgid cannot fail.
    unsafe { libc::getgid() }
}

/// The result of a call (an *at call, an ioctl) that returns 0 or -1: the io error on failure.
fn at_result(r: libc::c_int) -> std::io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// chmod and chown of the file an O_PATH descriptor names (through /proc/self/fd, so no path
/// a swap could redirect): mode exactly, whatever the umask.
pub fn chmod_chown_fd(fd: RawFd, mode: libc::mode_t, uid: u32, gid: u32) -> Result<()> {
    let p = cstr(&fd_path(fd))?;
    // SAFETY: a valid path naming our own descriptor. (A failed chmod shows at use.)
    unsafe { libc::chmod(p.as_ptr(), mode & 0o7777) };
    // SAFETY: as above.
    if unsafe { libc::chown(p.as_ptr(), uid, gid) } != 0 {
        return Err(last("chown".into()));
    }
    Ok(())
}

/// fchown(2).
pub fn fchown(fd: RawFd, uid: u32, gid: u32) -> std::io::Result<()> {
    // SAFETY: fchown on a descriptor the caller holds.
    at_result(unsafe { libc::fchown(fd, uid, gid) })
}

#[cfg(test)]
mod tests {
    use super::kept_mount_flags;

    #[test]
    fn statfs_bits_become_the_mount_flags_a_remount_must_keep() {
        // ST_RDONLY | ST_NOSUID | ST_NODEV | ST_RELATIME | ST_NOSYMFOLLOW
        let st = 1 | 2 | 4 | 4096 | 0x2000;
        assert_eq!(
            kept_mount_flags(st),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_RELATIME
        );
        assert_eq!(
            kept_mount_flags(8 | 1024 | 2048),
            libc::MS_NOEXEC | libc::MS_NOATIME | libc::MS_NODIRATIME
        );
        assert_eq!(kept_mount_flags(0), 0);
    }
}
