//! What the `update` tests share: a running container to update, its cgroup files, the
//! `update` command itself.

use crate::{assert_no_leaks, cgroup_dir, Bundle, Output, Rune};
use std::path::{Path, PathBuf};

pub fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {p:?}: {e}"))
        .trim()
        .to_string()
}

/// A running `sleep` container with no resource limits.
pub fn running(rune: &Rune, prefix: &str) -> (Bundle, i32) {
    let mut b = Bundle::new(prefix);
    b.args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    (b, pid)
}

/// A file of the container's cgroup in one v1 controller.
pub fn cg(b: &Bundle, controller: &str, file: &str) -> PathBuf {
    cgroup_dir(controller, &b.cgroups_path_value().unwrap()).join(file)
}

/// `update <flags...> ID`.
pub fn update(rune: &Rune, id: &str, flags: &[&str]) -> Output {
    let mut args = vec!["update"];
    args.extend_from_slice(flags);
    args.push(id);
    rune.cmd(args).run()
}

/// Force-deletes the container and checks nothing is left.
pub fn finish(rune: &Rune, b: &Bundle, pid: i32) {
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}
