//! `exec -t` into an enclave container: the process in the enclave gets a pty, whose master
//! reaches the console socket as for a plain container.

use rune_integration::*;

#[test]
fn exec_with_terminal_into_an_enclave() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("enctty", 3);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    assert!(
        trace.wait_line(|l| l.contains("[sleep,1000]")).is_some(),
        "{}",
        trace.dump()
    );
    let console = ConsoleSocket::new(b"");
    let sock = console.path().to_str().unwrap().to_string();
    let out = rune.exec(
        &b.id,
        &[
            "-t",
            "-d",
            "--console-socket",
            &sock,
            "--",
            "sh",
            "-c",
            "[ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; tty; ls /dev/pts; echo enclave-tty-done",
        ],
    );
    out.assert_ok();
    let cap = console.finish();
    assert!(cap.got_master);
    let text = cap.output.replace('\r', "");
    assert!(text.contains("stdio-is-a-tty"), "{text:?}");
    assert!(text.contains("enclave-tty-done"), "{text:?}");
    // The pty is the container's own (its devpts lists it), not one of the host's.
    let tty = text
        .lines()
        .find(|l| l.starts_with("/dev/pts/"))
        .expect("tty names a pts");
    let n = tty.trim_start_matches("/dev/pts/");
    assert!(
        text.lines().any(|l| l.split_whitespace().any(|w| w == n)),
        "{text:?}"
    );
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}
