//! Device numbers: a dev_t from its major and minor numbers, and back.

/// makedev(3): the device number of `major`:`minor`.
pub fn makedev(major: u32, minor: u32) -> libc::dev_t {
    libc::makedev(major, minor)
}

/// major(3): the major number of the device number `dev`.
pub fn major(dev: libc::dev_t) -> u32 {
    libc::major(dev)
}

/// minor(3): the minor number of the device number `dev`.
pub fn minor(dev: libc::dev_t) -> u32 {
    libc::minor(dev)
}
