//! Starting `rune init` from any host process, including multi-threaded ones.
//!
//! Between `clone` and `execve` the child runs only raw system calls on memory prepared before
//! the clone (no allocation, no locks, no Rust std): it may be a copy of a Go program whose other
//! threads held locks at the time of the clone.

use crate::err;
use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the child does before it becomes `rune init`.
pub struct Plan {
    exe: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// CLONE_NEW* flags for the clone itself.
    pub clone_flags: i32,
    /// Execute the rune binary from a read-only mount of it (needs CLONE_NEWNS).
    pub ro_exe: bool,
    /// Kill the child if the host dies before it is set up (not for an exec proxy, which
    /// must outlive a detached `rune exec`).
    pub pdeathsig: bool,
}

/// A started child, executing (or about to execute) `rune init`.
pub struct Child {
    pub pid: i32,
    /// Written once the host has set up the user namespace maps (CLONE_NEWUSER only).
    go: Option<OwnedFd>,
    /// Carries a failure of the pre-exec steps; EOF means execve succeeded.
    err: OwnedFd,
}

// Steps the child reports when it fails before execve.
const STEP_WAIT: u32 = 1;
const STEP_SETID: u32 = 2;
const STEP_MOUNT: u32 = 3;
const STEP_EXEC: u32 = 4;
const STEP_FD: u32 = 5;

impl Plan {
    /// `exe` is the rune binary, `fd` the init end of the channel (passed as argv[2]).
    pub fn new(exe: &Path, fd: RawFd, clone_flags: i32) -> Result<Plan> {
        let exe = CString::new(exe.as_os_str().as_bytes())
            .map_err(|_| err!(InvalidArgument, "rune binary path contains NUL"))?;
        let argv = vec![
            CString::new("rune").unwrap_or_default(),
            CString::new("init").unwrap_or_default(),
            CString::new(fd.to_string()).unwrap_or_default(),
        ];
        let envp = vec![CString::new("RUNE_INIT=1").unwrap_or_default()];
        Ok(Plan {
            exe,
            argv,
            envp,
            clone_flags,
            ro_exe: clone_flags & libc::CLONE_NEWNS != 0,
            pdeathsig: true,
        })
    }

    /// The plan for an exec proxy: `rune init <fd> proxy`, no namespaces.
    pub fn proxy(exe: &Path, fd: RawFd) -> Result<Plan> {
        let mut p = Plan::new(exe, fd, 0)?;
        p.argv.push(CString::new("proxy").unwrap_or_default());
        p.pdeathsig = false;
        Ok(p)
    }

    /// Clones the child. `keep_fd` loses close-on-exec in the child only.
    pub fn spawn(&self, keep_fd: RawFd) -> Result<Child> {
        let argv = crate::sys::null_terminated(&self.argv);
        let envp = crate::sys::null_terminated(&self.envp);
        let wait_maps = self.clone_flags & libc::CLONE_NEWUSER != 0;
        let (err_r, err_w) = pipe()?;
        let go = if wait_maps { Some(pipe()?) } else { None };
        let go_r = go.as_ref().map(|(r, _)| r.as_raw_fd()).unwrap_or(-1);
        let flags = (self.clone_flags | libc::SIGCHLD) as libc::c_ulong;
        // SAFETY: a fork-like clone (no CLONE_VM, no new stack): the child gets a copy of the
        // address space and returns here with 0. It then only calls `child_steps`, which makes
        // raw system calls on the memory prepared above and never returns.
        let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
        if pid < 0 {
            let e = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL);
            return Err(Error::os("clone the container init", e));
        }
        if pid == 0 {
            // SAFETY: see above; child_steps is async-signal-safe and ends in execve or _exit.
            unsafe {
                child_steps(
                    &self.exe,
                    &argv,
                    &envp,
                    keep_fd,
                    go_r,
                    err_w.as_raw_fd(),
                    wait_maps,
                    self.ro_exe,
                    self.pdeathsig,
                )
            }
        }
        drop(err_w);
        Ok(Child {
            pid: pid as i32,
            go: go.map(|(_, w)| w),
            err: err_r,
        })
    }
}

impl Child {
    /// Lets a child waiting for its user namespace maps go on.
    pub fn release(&mut self) -> Result<()> {
        if let Some(w) = self.go.take() {
            nix::unistd::write(&w, b"1").map_err(|e| Error::os("release init", e as i32))?;
        }
        Ok(())
    }

    /// After the channel closed early: why the child failed before or at execve, if it did.
    pub fn pre_exec_error(&self) -> Option<Error> {
        let mut buf = [0u8; 8];
        let n = nix::unistd::read(&self.err, &mut buf).ok()?;
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
        Some(Error::os(what, errno))
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::io("pipe", std::io::Error::last_os_error()));
    }
    // SAFETY: pipe2 returned two new descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The child between clone and execve. Async-signal-safe: raw system calls only.
#[allow(clippy::too_many_arguments)]
unsafe fn child_steps(
    exe: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    keep_fd: RawFd,
    go_r: RawFd,
    err_w: RawFd,
    wait_maps: bool,
    ro_exe: bool,
    pdeathsig: bool,
) -> ! {
    if libc::fcntl(keep_fd, libc::F_SETFD, 0) != 0 {
        fail(err_w, STEP_FD);
    }
    if pdeathsig {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }
    if wait_maps {
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
        let f = st.f_flags as libc::c_ulong;
        let mut keep = f
            & (libc::MS_NOSUID
                | libc::MS_NODEV
                | libc::MS_NOEXEC
                | libc::MS_NOATIME
                | libc::MS_NODIRATIME);
        if f & 4096 != 0 {
            keep |= libc::MS_RELATIME; // ST_RELATIME
        }
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
    libc::execve(exe.as_ptr(), argv.as_ptr(), envp.as_ptr());
    fail(err_w, STEP_EXEC)
}

/// Executes the rune binary from a detached, read-only clone of its mount (open_tree,
/// mount_setattr, execveat): /proc/<pid>/exe then names a read-only mount (CVE-2019-5736)
/// while nothing is mounted in the namespace, whose propagation stays as the host made it
/// (shared mounts peers of the host's, for rootfsPropagation and Bidirectional volumes).
/// Returns only when these calls are missing (ENOSYS) or refused (EPERM), for the fallback;
/// other failures end the child. Async-signal-safe: raw system calls on prepared memory only.
unsafe fn exec_detached_ro(
    exe: *const libc::c_char,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
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
    let (argv, envp) = (argv.as_ptr(), envp.as_ptr());
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
