//! Terminals via --console-socket, --preserve-fds and LISTEN_FDS.

use rune_integration::*;
use std::fs::File;

/// `run -d --console-socket` with a terminal; returns what the pty showed.
fn run_detached_tty(rune: &Rune, b: &Bundle, input: &[u8]) -> ConsoleCapture {
    let console = ConsoleSocket::new(input);
    let pid_file = rune.pid_file(&b.id);
    let out = rune.run_with(
        b,
        &[
            "-d",
            "--console-socket",
            console.path().to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    // Runtime output stays off its own stdio.
    assert_eq!(out.stdout, "", "{out}");
    let cap = console.finish();
    assert!(cap.got_master, "no pty master received");
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(read_pid_file(&pid_file)));
    cap
}

#[test]
fn terminal_via_console_socket() {
    let rune = Rune::new();
    let mut b = Bundle::new("tty");
    b.terminal(true)
        .sh("tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; echo done-output");
    let cap = run_detached_tty(&rune, &b, b"");
    let text = cap.output.replace('\r', "");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("/dev/pts/")),
        "tty output: {text:?}"
    );
    assert!(lines.contains(&"all-tty"), "{text:?}");
    assert!(lines.contains(&"done-output"), "{text:?}");
}

#[test]
fn terminal_input_reaches_the_process() {
    let rune = Rune::new();
    let mut b = Bundle::new("ttyin");
    b.terminal(true).sh("read line; echo \"got:$line\"");
    let cap = run_detached_tty(&rune, &b, b"hello-tty\n");
    assert!(cap.output.contains("got:hello-tty"), "{:?}", cap.output);
}

#[test]
fn terminal_with_create_and_start() {
    let rune = Rune::new();
    let mut b = Bundle::new("ttycreate");
    b.terminal(true).sh("tty; echo created-tty");
    b.write();
    rune.track(&b.id);
    let console = ConsoleSocket::new(b"");
    let pid_file = rune.pid_file(&b.id);
    rune.cmd([
        "create",
        "--bundle",
        b.path().to_str().unwrap(),
        "--console-socket",
        console.path().to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        b.id.as_str(),
    ])
    .run()
    .assert_ok();
    let pid = read_pid_file(&pid_file);
    rune.start(&b.id).assert_ok();
    let cap = console.finish();
    assert!(cap.output.contains("/dev/pts/"), "{:?}", cap.output);
    assert!(cap.output.contains("created-tty"), "{:?}", cap.output);
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn terminal_without_console_socket_fails_for_detached() {
    let rune = Rune::new();
    let mut b = Bundle::new("ttynosock");
    b.terminal(true).args(&["true"]);
    rune.create(&b).assert_fail_mentioning(&[
        "cannot allocate tty if rune will detach without setting console socket",
    ]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn console_socket_without_terminal_fails() {
    let rune = Rune::new();
    let mut b = Bundle::new("socknotty");
    b.args(&["true"]);
    let console = ConsoleSocket::new(b"");
    rune.run_with(&b, &["--console-socket", console.path().to_str().unwrap()])
        .assert_fail_mentioning(&[
            "cannot use console socket if rune will not detach or allocate tty",
        ]);
    assert_no_leaks(&rune, &b, None);
}

fn temp_file_with(content: &str) -> (tempfile::TempDir, File) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("data");
    std::fs::write(&p, content).unwrap();
    let f = File::open(&p).unwrap();
    (dir, f)
}

#[test]
fn preserve_fds() {
    let rune = Rune::new();
    let mut b = Bundle::new("pfds");
    b.sh("cat /proc/self/fd/3; ls /proc/self/fd | sort -n | tr '\\n' ' '");
    b.write();
    rune.track(&b.id);
    let (_d, f) = temp_file_with("through-fd-3\n");
    let out = rune
        .cmd([
            "run",
            "--preserve-fds",
            "1",
            "--bundle",
            b.path().to_str().unwrap(),
            b.id.as_str(),
        ])
        .pass_fd(f)
        .run();
    out.assert_ok();
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("through-fd-3"), "{out}");
    // 0,1,2 and 3, plus the fd `ls` itself has open on /proc/self/fd.
    let fds: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(&fds[..4], ["0", "1", "2", "3"], "{out}");
    assert!(
        fds.len() <= 5,
        "unexpected fds leaked into the container: {out}"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn fds_not_preserved_by_default() {
    let rune = Rune::new();
    let mut b = Bundle::new("nopfds");
    b.sh("test -e /proc/self/fd/3 && readlink /proc/self/fd/3 || echo no-fd-3");
    b.write();
    rune.track(&b.id);
    let (_d, f) = temp_file_with("x");
    let out = rune
        .cmd(["run", "--bundle", b.path().to_str().unwrap(), b.id.as_str()])
        .pass_fd(f)
        .run();
    out.assert_ok();
    // fd 3 may exist only as the shell's own /proc/self/fd open; never the file.
    assert!(!out.stdout.contains("data"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn listen_fds_are_passed() {
    let rune = Rune::new();
    let mut b = Bundle::new("listenfds");
    b.sh("echo \"$LISTEN_FDS $LISTEN_PID\"; cat /proc/self/fd/3");
    b.write();
    rune.track(&b.id);
    let (_d, f) = temp_file_with("socket-activated\n");
    let out = rune
        .cmd(["run", "--bundle", b.path().to_str().unwrap(), b.id.as_str()])
        .pass_fd(f)
        .listen_fds()
        .run();
    out.assert_ok();
    // LISTEN_PID is rewritten to the container process's pid (1 in its pid ns).
    assert_eq!(out.stdout, "1 1\nsocket-activated\n", "{out}");
    assert_no_leaks(&rune, &b, None);
}
