//! Against a real dbus-daemon, started here on a socket of its own (the `dbus` package).

use super::super::message::{Message, SIGNAL};
use super::super::wire::Value;
use super::{Connection, DBUS_NAME, DBUS_PATH};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A session dbus-daemon on `<dir>/bus`, killed on drop.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Daemon {
    fn start(test: &str) -> Daemon {
        let dir = std::env::temp_dir().join(format!("rune-dbus-{}-{}", test, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .arg(format!("--address=unix:path={}", dir.join("bus").display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run dbus-daemon ({}): install the dbus package \
                     (apt-get install dbus, or scripts/deps.sh)",
                    e
                )
            });
        // The address is printed once the daemon listens.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("unix:path="),
            "dbus-daemon printed {:?}",
            line
        );
        Daemon { child, dir }
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("bus")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn connect(p: &Path) -> Connection {
    Connection::connect(p, true, Duration::from_secs(5)).unwrap()
}

fn bus_call(
    c: &mut Connection,
    member: &str,
    body: Vec<Value>,
) -> Result<Vec<Value>, super::RemoteError> {
    c.call(Some(DBUS_NAME), DBUS_PATH, DBUS_NAME, member, body)
        .unwrap()
}

#[test]
fn a_real_dbus_daemon_answers() {
    let d = Daemon::start("answers");
    let mut c = connect(&d.socket());
    let me = c.unique_name().unwrap().to_string();
    assert!(me.starts_with(':'), "{}", me);

    let id = bus_call(&mut c, "GetId", vec![]).unwrap();
    let id = id[0].as_str().unwrap();
    assert_eq!(id.len(), 32, "{}", id);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let names = bus_call(&mut c, "ListNames", vec![]).unwrap();
    let Value::Array(sig, names) = &names[0] else {
        panic!("{:?}", names)
    };
    assert_eq!(sig, "s");
    assert!(names.contains(&Value::str(DBUS_NAME)));
    assert!(names.contains(&Value::str(&me)));

    let e = bus_call(&mut c, "GetNameOwner", vec![Value::str("org.rune.Missing")]).unwrap_err();
    assert_eq!(e.name, "org.freedesktop.DBus.Error.NameHasNoOwner");
    assert!(e.message.contains("org.rune.Missing"), "{}", e.message);
    let err = e.into_error("GetNameOwner");
    assert!(err.to_string().contains("NameHasNoOwner"), "{}", err);
}

#[test]
fn signals_arrive_while_waiting() {
    let d = Daemon::start("signals");
    let mut c = connect(&d.socket());
    let rule = "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'";
    bus_call(&mut c, "AddMatch", vec![Value::str(rule)]).unwrap();
    let mut other = connect(&d.socket());
    let name = other.unique_name().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(5);
    let m = c
        .wait_signal(deadline, |m| {
            m.member.as_deref() == Some("NameOwnerChanged")
                && m.body.first().and_then(Value::as_str) == Some(name.as_str())
        })
        .unwrap()
        .expect("NameOwnerChanged for the second connection");
    assert_eq!(m.kind, SIGNAL);
    assert_eq!(m.body[2], Value::str(&name));

    // The daemon checks every message against its signature: the driver's types reach the
    // other connection intact.
    let body = vec![
        Value::str("rune-x.scope"),
        Value::Array(
            "(sv)".into(),
            vec![
                Value::prop("Delegate", Value::Bool(true)),
                Value::prop("PIDs", Value::Array("u".into(), vec![Value::U32(7)])),
                Value::prop("MemoryMax", Value::U64(1 << 30)),
                Value::prop(
                    "AllowedCPUs",
                    Value::Array("y".into(), vec![Value::Byte(0x87)]),
                ),
                Value::prop(
                    "DeviceAllow",
                    Value::Array(
                        "(ss)".into(),
                        vec![Value::Struct(vec![
                            Value::str("char-pts"),
                            Value::str("rwm"),
                        ])],
                    ),
                ),
            ],
        ),
        Value::Array("(sa(sv))".into(), vec![]),
        Value::Path("/org/rune/job/1".into()),
        Value::Sig("a(sv)".into()),
    ];
    bus_call(
        &mut other,
        "AddMatch",
        vec![Value::str("type='signal',interface='org.rune.Test'")],
    )
    .unwrap();
    let mut sig = Message::call(
        Some(&name),
        "/org/rune",
        "org.rune.Test",
        "Props",
        body.clone(),
    );
    sig.kind = SIGNAL;
    c.send(&sig).unwrap();
    let got = other
        .wait_signal(Instant::now() + Duration::from_secs(5), |m| {
            m.interface.as_deref() == Some("org.rune.Test")
        })
        .unwrap()
        .expect("the signal with the driver's types");
    assert_eq!(got.body, body);
    assert_eq!(got.sender.as_deref(), c.unique_name());
}

#[test]
fn a_socket_without_a_server_is_a_clear_error() {
    let e = Connection::connect(Path::new("/nonexistent/bus"), true, Duration::from_secs(1))
        .err()
        .unwrap();
    assert!(e.to_string().contains("/nonexistent/bus"), "{}", e);
}
