//! Clones: fork-like ones (the child gets a copy of the address space), and the init's spawn,
//! which shares it until the child executes.

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// clone(CLONE_PARENT): a child of this process's parent (`what` names it for the error). Returns its pid here and None in the
/// child. Only for single-threaded processes (a `rune init`): the child may run any code.
pub fn fork_sibling(what: &str) -> Result<Option<i32>> {
    let flags = (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: a fork-like clone of a single-threaded process: the child continues with a
    // consistent copy of the address space, as after fork().
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match pid {
        p if p < 0 => Err(Error::io(what, std::io::Error::last_os_error())),
        0 => Ok(None),
        p => Ok(Some(p as i32)),
    }
}

// Steps a spawned init's child reports when it fails before execve.
const STEP_WAIT: u32 = 1;
const STEP_SETID: u32 = 2;
const STEP_MOUNT: u32 = 3;
const STEP_EXEC: u32 = 4;
const STEP_FD: u32 = 5;

/// Lets a child waiting for its user namespace maps (`go_r`) go on: writes to the pipe's
/// write end.
pub fn release(go_w: OwnedFd) -> Result<()> {
    use std::os::fd::AsFd;
    super::fd::write_no_sigpipe(go_w.as_fd(), b"1")
        .map(drop)
        .map_err(|e| Error::io("release init", e))
}

/// After the init's channel closed early: the step (named) and errno the child reported on
/// `err_r` if it failed before or at execve; None when it got past execve.
pub fn failure(err_r: std::os::fd::BorrowedFd<'_>) -> Option<(&'static str, i32)> {
    let mut buf = [0u8; 8];
    let n = super::fd::read(err_r, &mut buf).ok()?;
    if n != 8 {
        return None;
    }
    let step = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let what = match step {
        STEP_WAIT => "wait for user namespace maps",
        STEP_SETID => "become root in the user namespace",
        STEP_MOUNT => "bind the rune binary read-only",
        STEP_EXEC => "execute rune init",
        STEP_FD => "pass the init channel",
        _ => "start rune init",
    };
    Some((what, errno))
}

/// What the child of [`spawn_init`] does before it becomes `rune init`.
pub struct InitChild<'a> {
    pub exe: &'a CString,
    pub argv: &'a [CString],
    pub envp: &'a [CString],
    /// CLONE_NEW* flags for the clone.
    pub clone_flags: i32,
    /// Loses close-on-exec in the child (the init's channel).
    pub keep_fd: RawFd,
    /// Read until the host has written the user namespace maps (CLONE_NEWUSER only).
    pub go_r: Option<RawFd>,
    /// Gets (step, errno) when a step before execve fails.
    pub err_w: RawFd,
    /// Execute the binary from a read-only mount of it (needs CLONE_NEWNS).
    pub ro_exe: bool,
    /// A detached read-only mount of the binary made before the clone ([`ro_exe_tree`]), or
    /// -1: the child executes it and needs no path to the binary (which a container's uid in a
    /// new user namespace may not be able to walk).
    pub ro_tree: RawFd,
    /// Killed when the caller dies.
    pub pdeathsig: bool,
}

/// Clones the child (new namespaces `clone_flags`) and returns its pid. Safe from any host
/// process, multi-threaded ones too: between clone and execve the child runs only raw system
/// calls on memory prepared here (no allocation, no locks, no Rust std): it may be a copy of a
/// Go program whose other threads held locks at the time of the clone.
///
/// Unless the child must wait for its user namespace maps, it shares this process's memory
/// until its execve (CLONE_VM | CLONE_VFORK, as posix_spawn): no copy of the page tables, no
/// copy-on-write faults here afterwards, which a large host (a Go program) pays dearly for. The
/// child waiting for its maps needs this process to run meanwhile, so it gets a copy instead.
pub fn spawn_init(c: &InitChild<'_>) -> Result<i32> {
    let (argv, envp) = (super::CStrArray::new(c.argv), super::CStrArray::new(c.envp));
    let steps = ChildSteps {
        exe: c.exe,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        keep_fd: c.keep_fd,
        go_r: c.go_r.unwrap_or(-1),
        err_w: c.err_w,
        ro_exe: c.ro_exe,
        ro_tree: c.ro_tree,
        pdeathsig: c.pdeathsig,
    };
    let pid = if c.go_r.is_some() {
        let flags = (c.clone_flags | libc::SIGCHLD) as libc::c_ulong;
        // SAFETY: a fork-like clone (no CLONE_VM, no new stack): the child gets a copy of the
        // address space and returns here with 0. It then only runs the steps, which make raw
        // system calls on the memory prepared above and never return.
        let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
        if pid == 0 {
            // SAFETY: see above.
            unsafe { steps.run() }
        }
        pid as i32
    } else {
        clone_vfork(c.clone_flags, &steps)
    };
    if pid < 0 {
        let e = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL);
        return Err(Error::os("clone the container init", e));
    }
    Ok(pid)
}

/// The child's stack while it shares this process's memory: its steps are a few frames of raw
/// system calls.
const VFORK_STACK: usize = 64 * 1024;

/// clone(CLONE_VM | CLONE_VFORK) of a child that runs `steps` on a stack of its own; returns
/// when the child has executed or exited: its pid, or -1 with errno set.
fn clone_vfork(ns_flags: i32, steps: &ChildSteps<'_>) -> i32 {
    extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the ChildSteps the parent keeps alive (it is suspended until this
        // child executes or exits, CLONE_VFORK).
        unsafe { (*(arg as *const ChildSteps<'_>)).run() }
    }
    // Left uninitialised: only the pages the child's few frames touch become resident.
    let mut stack: Vec<u8> = Vec::with_capacity(VFORK_STACK);
    // SAFETY: the end of the buffer's allocation (its capacity), 16-byte aligned below as the
    // ABI wants at a call; only the child writes there, as its stack.
    let top = unsafe { stack.as_mut_ptr().add(VFORK_STACK) };
    let top = (top as usize & !15) as *mut libc::c_void;
    let flags = ns_flags | libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: every signal is blocked around the clone, so no handler of this process runs on
    // the child's stack while it shares this memory (the init it executes unblocks them: its
    // first step resets the mask). The child makes raw system calls only; its errno writes
    // land in this thread's errno, read here only after clone returned, when it is gone.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            child,
            top,
            flags,
            steps as *const ChildSteps<'_> as *mut libc::c_void,
        );
        let errno = *libc::__errno_location();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        *libc::__errno_location() = errno;
        drop(stack);
        pid
    }
}

/// A detached, read-only clone of the mount of the rune binary `exe` (open_tree and
/// mount_setattr, here in the caller before any clone), for the child to execute: made while
/// the caller can still walk `exe`'s path, which a container's uid in a new user namespace may
/// not. None where the calls are missing (ENOSYS) or refused (EPERM: a plain user, a seccomp
/// profile older than them); the child then makes the mount itself.
pub fn ro_exe_tree(exe: &CString) -> Result<Option<OwnedFd>> {
    let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    let missing = |e: &std::io::Error| matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM));
    // SAFETY: a NUL-terminated path; a new descriptor is returned on success.
    let tree = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, exe.as_ptr(), flags) };
    if tree < 0 {
        let e = std::io::Error::last_os_error();
        if missing(&e) {
            return Ok(None);
        }
        let what = format!("open the rune binary {}", exe.to_string_lossy());
        return Err(Error::io(what, e));
    }
    // SAFETY: open_tree returned a new descriptor that we now own.
    let tree = unsafe { OwnedFd::from_raw_fd(tree as RawFd) };
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: our descriptor, an empty NUL-terminated path and an attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            std::os::fd::AsRawFd::as_raw_fd(&tree),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        if missing(&e) {
            return Ok(None);
        }
        return Err(Error::io("make the rune binary's mount read-only", e));
    }
    Ok(Some(tree))
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::io("pipe", std::io::Error::last_os_error()));
    }
    // SAFETY: pipe2 returned two new descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// What the child does between clone and execve, prepared before the clone.
struct ChildSteps<'a> {
    exe: &'a CString,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    keep_fd: RawFd,
    go_r: RawFd,
    err_w: RawFd,
    ro_exe: bool,
    ro_tree: RawFd,
    pdeathsig: bool,
}

impl ChildSteps<'_> {
    /// The child between clone and execve. Async-signal-safe: raw system calls only.
    unsafe fn run(&self) -> ! {
        let ChildSteps {
            exe,
            argv,
            envp,
            keep_fd,
            go_r,
            err_w,
            ro_exe,
            ro_tree,
            pdeathsig,
        } = *self;
        if libc::fcntl(keep_fd, libc::F_SETFD, 0) != 0 {
            fail(err_w, STEP_FD);
        }
        if pdeathsig {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        }
        // A new user namespace's child waits for its maps (`go_r`).
        if go_r >= 0 {
            let mut b = 0u8;
            loop {
                let n = libc::read(go_r, &mut b as *mut u8 as *mut libc::c_void, 1);
                if n == 1 {
                    break;
                }
                if n < 0 && *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                fail(err_w, STEP_WAIT);
            }
            if libc::syscall(libc::SYS_setresgid, 0, 0, 0) != 0
                || libc::syscall(libc::SYS_setresuid, 0, 0, 0) != 0
            {
                fail(err_w, STEP_SETID);
            }
        }
        if ro_tree >= 0 {
            let empty = c"".as_ptr();
            libc::syscall(
                libc::SYS_execveat,
                ro_tree,
                empty,
                argv,
                envp,
                libc::AT_EMPTY_PATH,
            );
            fail(err_w, STEP_EXEC);
        }
        if ro_exe {
            let p = exe.as_ptr();
            exec_detached_ro(p, argv, envp, err_w);
            // Kernels before 5.12: bind the binary read-only onto itself. / becomes a slave so the
            // bind stays in this namespace, which also turns the host's shared mounts into
            // slaves here (no Bidirectional volumes on such kernels).
            let mut st = KernelStatfs::default();
            if libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_SLAVE | libc::MS_REC,
                std::ptr::null(),
            ) != 0
                || libc::syscall(libc::SYS_statfs, p, &mut st as *mut KernelStatfs) != 0
                || libc::mount(p, p, std::ptr::null(), libc::MS_BIND, std::ptr::null()) != 0
            {
                fail(err_w, STEP_MOUNT);
            }
            // Keep the flags the kernel may have locked (nosuid, nodev, noexec, atime).
            let keep = super::kept_mount_flags(st.f_flags as libc::c_ulong);
            let flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | keep;
            if libc::mount(
                std::ptr::null(),
                p,
                std::ptr::null(),
                flags,
                std::ptr::null(),
            ) != 0
            {
                fail(err_w, STEP_MOUNT);
            }
        }
        libc::execve(exe.as_ptr(), argv, envp);
        fail(err_w, STEP_EXEC)
    }
}

/// Executes the rune binary from a detached, read-only clone of its mount (open_tree,
/// mount_setattr, execveat): /proc/<pid>/exe then names a read-only mount (CVE-2019-5736)
/// while nothing is mounted in the namespace, whose propagation stays as the host made it
/// (shared mounts peers of the host's, for rootfsPropagation and Bidirectional volumes).
/// Returns only when these calls are missing (ENOSYS) or refused (EPERM), for the fallback;
/// other failures end the child. Async-signal-safe: raw system calls on prepared memory only.
unsafe fn exec_detached_ro(
    exe: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    err_w: RawFd,
) {
    let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    // A seccomp profile older than these calls may answer EPERM rather than ENOSYS.
    let missing = || matches!(*libc::__errno_location(), libc::ENOSYS | libc::EPERM);
    let tree = libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, exe, flags) as RawFd;
    if tree < 0 {
        if missing() {
            return;
        }
        fail(err_w, STEP_MOUNT);
    }
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let size = std::mem::size_of::<libc::mount_attr>();
    let empty = c"".as_ptr();
    if libc::syscall(
        libc::SYS_mount_setattr,
        tree,
        empty,
        libc::AT_EMPTY_PATH,
        &attr,
        size,
    ) != 0
    {
        if missing() {
            libc::close(tree);
            return;
        }
        fail(err_w, STEP_MOUNT);
    }
    libc::syscall(
        libc::SYS_execveat,
        tree,
        empty,
        argv,
        envp,
        libc::AT_EMPTY_PATH,
    );
    fail(err_w, STEP_EXEC)
}

/// The kernel's `struct statfs` (x86-64 and other 64-bit ABIs): the raw system call is used
/// between clone and execve, where glibc's statvfs is not promised async-signal-safe.
#[repr(C)]
#[derive(Default)]
struct KernelStatfs {
    f_type: libc::c_long,
    f_bsize: libc::c_long,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_fsid: [libc::c_int; 2],
    f_namelen: libc::c_long,
    f_frsize: libc::c_long,
    f_flags: libc::c_long,
    f_spare: [libc::c_long; 4],
}

unsafe fn fail(err_w: RawFd, step: u32) -> ! {
    let errno = *libc::__errno_location();
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&step.to_ne_bytes());
    buf[4..].copy_from_slice(&errno.to_ne_bytes());
    libc::write(err_w, buf.as_ptr() as *const libc::c_void, 8);
    libc::_exit(127)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn blocked() -> libc::sigset_t {
        // SAFETY: a zeroed set is filled in by pthread_sigmask.
        unsafe {
            let mut cur: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut cur);
            cur
        }
    }

    fn is_member(set: &libc::sigset_t, sig: i32) -> bool {
        // SAFETY: an initialised set.
        unsafe { libc::sigismember(set, sig) == 1 }
    }

    #[test]
    fn a_spawn_leaves_the_callers_signal_mask_as_it_was() {
        // The spawn blocks every signal while the child shares this memory, then puts back
        // exactly what the caller had: here SIGUSR2 blocked, SIGUSR1 not.
        // SAFETY: an initialised set; this test thread's own mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        }
        let (err_r, err_w) = pipe().unwrap();
        let (exe, argv) = (CString::from(c"/bin/true"), [CString::from(c"true")]);
        let pid = spawn_init(&InitChild {
            exe: &exe,
            argv: &argv,
            envp: &[],
            clone_flags: 0,
            keep_fd: err_r.as_raw_fd(),
            go_r: None,
            err_w: err_w.as_raw_fd(),
            ro_exe: false,
            ro_tree: -1,
            pdeathsig: false,
        })
        .unwrap();
        let now = blocked();
        assert!(is_member(&now, libc::SIGUSR2));
        assert!(!is_member(&now, libc::SIGUSR1));
        assert!(!is_member(&now, libc::SIGTERM));
        drop(err_w);
        // The child executed: no failure report, and it exits 0.
        assert_eq!(failure(std::os::fd::AsFd::as_fd(&err_r)), None);
        let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
        assert_eq!(
            status,
            nix::sys::wait::WaitStatus::Exited(nix::unistd::Pid::from_raw(pid), 0)
        );
    }
}
