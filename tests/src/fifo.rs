//! FIFOs that hold a container's process until the test lets it go on.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// mkfifo(path, 0666); panics on failure.
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("UTF-8 path")).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o666) },
        0,
        "mkfifo {path:?}"
    );
}

/// Opens the FIFO `path` for writing once the container reads it, and writes a line.
pub fn trigger(path: &Path) {
    let mut f = None;
    let opened = crate::wait_until(crate::POLL_TIMEOUT, || {
        f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .ok();
        f.is_some()
    });
    assert!(opened, "nobody reads the FIFO {path:?}");
    f.unwrap().write_all(b"go\n").unwrap();
}
