//! `linux.sysctl`.

use rune_integration::*;

#[test]
fn net_sysctl_in_new_network_namespace() {
    let rune = Rune::new();
    let mut b = Bundle::new("sysctlnet");
    b.sysctl("net.ipv4.ip_forward", "1")
        .sysctl("net.ipv4.ip_default_ttl", "42")
        .sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl");
    let host_ttl = std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl").unwrap();
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "1\n42\n");
    // The host's value is untouched.
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl").unwrap(),
        host_ttl
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn ipc_sysctl_in_new_ipc_namespace() {
    let rune = Rune::new();
    let mut b = Bundle::new("sysctlipc");
    b.sysctl("kernel.shmmax", "123456789")
        .sysctl("kernel.msgmax", "4321")
        .sh("cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "123456789\n4321\n");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn uts_sysctl_sets_domainname() {
    let rune = Rune::new();
    let mut b = Bundle::new("sysctluts");
    b.unset("/hostname")
        .sysctl("kernel.domainname", "sysctl.test")
        .sh("cat /proc/sys/kernel/domainname");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "sysctl.test\n");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn net_sysctl_without_network_namespace_is_refused() {
    // Setting a net.* sysctl while sharing the host network namespace would
    // change the host; the runtime must refuse. The requested value is the
    // host's current one, so even a runtime that wrongly applies it changes
    // nothing.
    let rune = Rune::new();
    let current = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let mut b = Bundle::new("sysctlhost");
    b.remove_namespace("network")
        .sysctl("net.ipv4.ip_forward", current.trim())
        .args(&["true"]);
    rune.run(&b)
        .assert_fail_mentioning(&["sysctl", "net.ipv4.ip_forward", "namespace"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn unknown_sysctl_fails() {
    let rune = Rune::new();
    let mut b = Bundle::new("sysctlbad");
    b.sysctl("kernel.no_such_sysctl_xyz", "1").args(&["true"]);
    rune.run(&b)
        .assert_fail_mentioning(&["no_such_sysctl_xyz", "sysctl"]);
    assert_no_leaks(&rune, &b, None);
}
