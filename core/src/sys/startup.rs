//! What a Rust program's runtime does before `main`, the part the rune binary needs: it starts
//! from its own C entry point (`#![no_main]`) because std's start also reads /proc/self/maps
//! (glibc's pthread_getattr_np, for the main thread's stack guard), about 75 us per start
//! here, twice per container.

/// Standard descriptors 0-2 opened on /dev/null where the caller left them closed (so no file
/// rune opens becomes its stdout), and SIGPIPE ignored (a closed pipe is an EPIPE error),
/// as std's start does.
pub fn startup() {
    for fd in 0..3 {
        // SAFETY: fcntl F_GETFD on a descriptor number; open with a NUL-terminated path.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && *libc::__errno_location() == libc::EBADF
                && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != fd
            {
                libc::abort();
            }
        }
    }
    // SAFETY: signal() with a valid signal and disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}
