//! `run -t` in the foreground without a console socket: rune allocates the pty and copies
//! between it and its own terminal (here one that script(1) provides), as `runc run` does.

use rune_integration::*;
use std::io::Read;
use std::process::{Command, Stdio};

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn foreground_run_with_a_terminal() {
    let rune = Rune::new();
    let mut b = Bundle::new("fgtty");
    b.terminal(true)
        .sh("[ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; tty; exit 7");
    b.write();
    rune.track(&b.id);
    let cmd = format!(
        "{} --root {} run --bundle {} {}",
        shell_quote(rune.bin().to_str().unwrap()),
        shell_quote(rune.root().to_str().unwrap()),
        shell_quote(b.path().to_str().unwrap()),
        b.id
    );
    // script gives rune a terminal on stdin/stdout and returns the child's exit code (-e).
    // Its stdin is a pipe kept open: at EOF script would type the EOF character into the
    // terminal, which rune, in raw mode by then, passes to the container like any key.
    let mut child = Command::new("timeout")
        .args(["20", "script", "-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    let _stdin = child.stdin.take();
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let text = String::from_utf8_lossy(&stdout).replace('\r', "");
    assert!(text.contains("stdio-is-a-tty"), "{text:?}");
    assert!(text.lines().any(|l| l.starts_with("/dev/pts/")), "{text:?}");
    assert_eq!(status.code(), Some(7), "{text:?}");
    assert_no_leaks(&rune, &b, None);
}
