//! systemd's manager over D-Bus: reaching it, starting, changing and stopping a unit, and
//! waiting for a unit's job (`JobRemoved`, after `Subscribe`).

use super::dbus::{Connection, RemoteError, DBUS_NAME, DBUS_PATH};
use super::wire::Value;
use super::SystemdUnit;
use crate::err;
use crate::error::Result;
use std::path::Path;
use std::time::{Duration, Instant};

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
const PRIVATE: &str = "/run/systemd/private";
/// How long one call may take (libdbus's default is 25 s).
const CALL_TIMEOUT: Duration = Duration::from_secs(25);
/// How long a unit's job may take, as runc waits.
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to systemd: the system bus, else (no bus daemon) systemd's private socket,
/// peer-to-peer. An error that says why when systemd is not pid 1 or cannot be reached.
pub fn connect() -> Result<Connection> {
    if !super::running() {
        return Err(err!(
            InvalidArgument,
            "--systemd-cgroup: systemd is not running (no /run/systemd/system)"
        ));
    }
    let bus = Connection::connect(Path::new(SYSTEM_BUS), true, CALL_TIMEOUT);
    match bus {
        Ok(c) => Ok(c),
        Err(e) if !Path::new(SYSTEM_BUS).exists() && Path::new(PRIVATE).exists() => {
            Connection::connect(Path::new(PRIVATE), false, CALL_TIMEOUT).map_err(|p| {
                p.context(format!(
                    "--systemd-cgroup: cannot reach systemd ({}; its private socket)",
                    e
                ))
            })
        }
        Err(e) => Err(e.context("--systemd-cgroup: cannot reach systemd on the system bus")),
    }
}

fn call(
    c: &mut Connection,
    member: &str,
    body: Vec<Value>,
) -> Result<Result<Vec<Value>, RemoteError>> {
    c.call(Some(SYSTEMD), SYSTEMD_PATH, MANAGER, member, body)
}

/// systemd's version (the leading number of the manager's `Version`), 0 when unknown.
pub fn version(c: &mut Connection) -> u32 {
    let body = vec![Value::str(MANAGER), Value::str("Version")];
    let reply = c.call(
        Some(SYSTEMD),
        SYSTEMD_PATH,
        "org.freedesktop.DBus.Properties",
        "Get",
        body,
    );
    match reply {
        Ok(Ok(v)) => match v.first() {
            Some(Value::Variant(s)) => s.as_str().map(leading_number).unwrap_or(0),
            _ => 0,
        },
        _ => 0,
    }
}

/// "252.22-1~deb12u1" is 252; "v245" is 245.
pub fn leading_number(v: &str) -> u32 {
    let v = v.trim().trim_start_matches('v');
    let end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    v[..end].parse().unwrap_or(0)
}

/// What every unit of a container gets: a scope holds the init (`PIDs`) and is delegated; a
/// slice is placed by `Wants=` (its parent is in its name).
pub fn base_props(unit: &SystemdUnit, pid: i32) -> Vec<Value> {
    let b = |name: &str, v: bool| Value::prop(name, Value::Bool(v));
    let mut p = vec![Value::prop(
        "Description",
        Value::Str(format!("rune container {}", unit.unit)),
    )];
    if unit.is_slice() {
        p.push(Value::prop("Wants", Value::str(&unit.slice)));
    } else {
        p.push(Value::prop("Slice", Value::str(&unit.slice)));
        p.push(b("Delegate", true));
        p.push(Value::prop(
            "PIDs",
            Value::Array("u".into(), vec![Value::U32(pid as u32)]),
        ));
    }
    p.push(b("MemoryAccounting", true));
    p.push(b("CPUAccounting", true));
    if cgroups_rs::hierarchies::is_cgroup2_unified_mode() {
        p.push(b("IOAccounting", true));
    } else {
        p.push(b("BlockIOAccounting", true));
    }
    p.push(b("TasksAccounting", true));
    p.push(b("DefaultDependencies", false));
    p
}

/// Asks for the manager's signals: a match rule on a bus, then `Subscribe`.
fn subscribe(c: &mut Connection) -> Result<()> {
    if c.is_bus() {
        let rule = format!(
            "type='signal',sender='{}',path='{}',interface='{}',member='JobRemoved'",
            SYSTEMD, SYSTEMD_PATH, MANAGER
        );
        c.call(
            Some(DBUS_NAME),
            DBUS_PATH,
            DBUS_NAME,
            "AddMatch",
            vec![Value::Str(rule)],
        )?
        .map_err(|e| e.into_error("D-Bus AddMatch"))?;
    }
    // Already subscribed (another connection of the same client) is not an error.
    let _ = call(c, "Subscribe", vec![])?;
    Ok(())
}

/// Waits for `JobRemoved` of `job`: its result ("done" when it succeeded), None on timeout.
fn wait_job(c: &mut Connection, job: &str, timeout: Duration) -> Result<Option<String>> {
    let deadline = Instant::now() + timeout;
    let m = c.wait_signal(deadline, |m| {
        m.member.as_deref() == Some("JobRemoved")
            && m.interface.as_deref() == Some(MANAGER)
            && m.body.get(1).and_then(Value::as_str) == Some(job)
    })?;
    Ok(m.and_then(|m| m.body.get(3).and_then(Value::as_str).map(str::to_string)))
}

fn reset_failed(c: &mut Connection, unit: &str) {
    let _ = call(c, "ResetFailedUnit", vec![Value::str(unit)]);
}

/// `StartTransientUnit(unit, "replace", props, [])` and its job: a unit that exists already is
/// used as it is.
pub fn start(c: &mut Connection, unit: &str, props: Vec<Value>) -> Result<()> {
    subscribe(c)?;
    let body = vec![
        Value::str(unit),
        Value::str("replace"),
        Value::Array("(sv)".into(), props),
        Value::Array("(sa(sv))".into(), vec![]),
    ];
    let job = match call(c, "StartTransientUnit", body)? {
        Ok(v) => v.first().and_then(Value::as_str).map(str::to_string),
        Err(e) if e.name == "org.freedesktop.systemd1.UnitExists" => return Ok(()),
        Err(e) => return Err(e.into_error(&format!("systemd: start unit {}", unit))),
    };
    let job = job.ok_or_else(|| {
        err!(
            Internal,
            "systemd: start unit {}: no job in the reply",
            unit
        )
    })?;
    match wait_job(c, &job, JOB_TIMEOUT)? {
        Some(r) if r == "done" => Ok(()),
        Some(r) => {
            reset_failed(c, unit);
            Err(err!(
                Os,
                "systemd: start unit {}: the job ended {:?}",
                unit,
                r
            ))
        }
        None => {
            reset_failed(c, unit);
            Err(err!(
                Os,
                "systemd: start unit {}: no answer in {} s",
                unit,
                JOB_TIMEOUT.as_secs()
            ))
        }
    }
}

/// `SetUnitProperties(unit, runtime=true, props)`.
pub fn set_properties(c: &mut Connection, unit: &str, props: Vec<Value>) -> Result<()> {
    if props.is_empty() {
        return Ok(());
    }
    let body = vec![
        Value::str(unit),
        Value::Bool(true),
        Value::Array("(sv)".into(), props),
    ];
    call(c, "SetUnitProperties", body)?
        .map(|_| ())
        .map_err(|e| e.into_error(&format!("systemd: set the properties of unit {}", unit)))
}

/// `StopUnit(unit, "replace")` and its job; a unit already gone is stopped. The unit is reset
/// whatever happened, so that its name can be used again.
pub fn stop(c: &mut Connection, unit: &str) -> Result<()> {
    let r = stop_job(c, unit);
    reset_failed(c, unit);
    r
}

fn stop_job(c: &mut Connection, unit: &str) -> Result<()> {
    subscribe(c)?;
    let job = match call(c, "StopUnit", vec![Value::str(unit), Value::str("replace")])? {
        Ok(v) => v.first().and_then(Value::as_str).map(str::to_string),
        Err(e) if e.name == "org.freedesktop.systemd1.NoSuchUnit" => return Ok(()),
        Err(e) => return Err(e.into_error(&format!("systemd: stop unit {}", unit))),
    };
    let job =
        job.ok_or_else(|| err!(Internal, "systemd: stop unit {}: no job in the reply", unit))?;
    match wait_job(c, &job, JOB_TIMEOUT)? {
        Some(r) if r == "done" => Ok(()),
        Some(r) => Err(err!(
            Os,
            "systemd: stop unit {}: the job ended {:?}",
            unit,
            r
        )),
        None => Err(err!(
            Os,
            "systemd: stop unit {}: no answer in {} s",
            unit,
            JOB_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::Value;

    #[test]
    fn versions_and_base_properties() {
        assert_eq!(super::leading_number("252.22-1~deb12u1"), 252);
        assert_eq!(super::leading_number("v245"), 245);
        assert_eq!(super::leading_number("x"), 0);
        let scope = crate::cgroups::systemd_unit_for_tests("", "c1");
        let p = super::base_props(&scope, 42);
        assert!(p.contains(&Value::prop("Slice", Value::str("system.slice"))));
        assert!(p.contains(&Value::prop("Delegate", Value::Bool(true))));
        assert!(p.contains(&Value::prop("DefaultDependencies", Value::Bool(false))));
        assert!(p.contains(&Value::prop(
            "PIDs",
            Value::Array("u".into(), vec![Value::U32(42)])
        )));
        assert!(p.contains(&Value::prop(
            "Description",
            Value::str("rune container rune-c1.scope")
        )));
        let slice = crate::cgroups::systemd_unit_for_tests("a.slice:p:a-b.slice", "c1");
        let p = super::base_props(&slice, 42);
        assert!(p.contains(&Value::prop("Wants", Value::str("a.slice"))));
        assert!(!p
            .iter()
            .any(|v| v.signature() == "(sv)" && format!("{:?}", v).contains("PIDs")));
    }
}
