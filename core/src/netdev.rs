//! `linux.netDevices`: host network interfaces moved into the container's network namespace
//! (renamed when asked), and moved back to the host when the container is deleted. A minimal
//! rtnetlink client: one RTM_NEWLINK request per move, checked by its ACK.

use crate::err;
use crate::error::{Context, Error, Result};
use crate::sys::socket;
use crate::sys::syscall::{Linux, Syscall};
use oci_spec::runtime::Spec;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, RawFd};

const RTM_NEWLINK: u16 = 16;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_PID: u16 = 19;
const IFLA_NET_NS_FD: u16 = 28;

/// (host name, name in the container) for each configured device.
pub fn devices(spec: &Spec) -> Vec<(String, String)> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.net_devices().as_ref())
        .map(|m| {
            let mut v: Vec<(String, String)> = m
                .iter()
                .map(|(host, d)| {
                    (
                        host.clone(),
                        d.name()
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| host.clone()),
                    )
                })
                .collect();
            v.sort();
            v
        })
        .unwrap_or_default()
}

/// Where to move a link: a process's network namespace, or a namespace fd.
enum Target {
    Pid(u32),
    Fd(RawFd),
}

fn ifindex(name: &str) -> Result<u32> {
    let c = CString::new(name).map_err(|_| err!(InvalidSpec, "bad interface name {:?}", name))?;
    crate::sys::net::if_index(&c)
        .ok_or_else(|| err!(NotFound, "network device {:?} does not exist", name))
}

fn attr(buf: &mut Vec<u8>, typ: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&typ.to_ne_bytes());
    buf.extend_from_slice(data);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// RTM_NEWLINK: move link `index` to `target`, named `new_name` there.
fn move_link(index: u32, target: Target, new_name: &str) -> Result<()> {
    let mut body = Vec::new();
    // struct ifinfomsg: family, pad, type, index, flags, change.
    body.extend_from_slice(&[libc::AF_UNSPEC as u8, 0]);
    body.extend_from_slice(&0u16.to_ne_bytes());
    body.extend_from_slice(&(index as i32).to_ne_bytes());
    body.extend_from_slice(&0u32.to_ne_bytes());
    body.extend_from_slice(&0u32.to_ne_bytes());
    match target {
        Target::Pid(pid) => attr(&mut body, IFLA_NET_NS_PID, &pid.to_ne_bytes()),
        Target::Fd(fd) => attr(&mut body, IFLA_NET_NS_FD, &(fd as u32).to_ne_bytes()),
    }
    let mut name = new_name.as_bytes().to_vec();
    name.push(0);
    attr(&mut body, IFLA_IFNAME, &name);
    let mut msg = Vec::new();
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    msg.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // pid
    msg.extend_from_slice(&body);
    let sock = socket::netlink_route().context("netlink socket")?;
    socket::send(sock.as_fd(), &msg).context("netlink send")?;
    let mut reply = [0u8; 1024];
    match socket::recv(sock.as_fd(), &mut reply) {
        Ok(n) if n >= 20 => {}
        Ok(_) => return Err(Error::io("netlink reply", std::io::Error::last_os_error())),
        Err(e) => return Err(Error::io("netlink reply", e)),
    }
    // NLMSG_ERROR (2) carries an errno, 0 for the ACK.
    let typ = u16::from_ne_bytes([reply[4], reply[5]]);
    if typ == 2 {
        let code = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
        if code != 0 {
            return Err(Error::os("netlink RTM_NEWLINK", -code));
        }
    }
    Ok(())
}

/// Moves the configured devices into the network namespace of process `pid` (run by the host).
pub fn move_in(spec: &Spec, pid: i32) -> Result<()> {
    for (host, name) in devices(spec) {
        let idx = ifindex(&host)?;
        move_link(idx, Target::Pid(pid as u32), &name).with_context(|| {
            format!(
                "move network device {} into the container as {}",
                host, name
            )
        })?;
    }
    Ok(())
}

/// Moves the devices back from the container (its init `pid` still alive) to our namespace.
pub fn move_out(spec: &Spec, pid: i32) -> Result<()> {
    let devs = devices(spec);
    if devs.is_empty() {
        return Ok(());
    }
    let host_ns =
        std::fs::File::open("/proc/thread-self/ns/net").context("open own network namespace")?;
    let ctr_ns = std::fs::File::open(format!("/proc/{}/ns/net", pid))
        .context("open the container's network namespace")?;
    // setns moves this thread only (network namespaces are per thread).
    Linux.setns(ctr_ns.as_fd(), libc::CLONE_NEWNET, &|| {
        "enter the container's network namespace".into()
    })?;
    let mut result = Ok(());
    for (host, name) in &devs {
        let r = ifindex(name).and_then(|idx| move_link(idx, Target::Fd(host_ns.as_raw_fd()), host));
        if let Err(e) = r {
            result = Err(e.context(format!(
                "move network device {} back to the host as {}",
                name, host
            )));
        }
    }
    // Back to our own namespace.
    Linux.setns(host_ns.as_fd(), libc::CLONE_NEWNET, &|| {
        "return to the host network namespace".into()
    })?;
    result
}
