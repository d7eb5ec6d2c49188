//! Reading /proc for what rune needs about processes: start times and liveness.

use std::fs;

/// What /proc/<pid>/stat says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The state letter: R, S, D, Z, T, ...
    pub state: u8,
    /// Start time in clock ticks since boot (field 22).
    pub start_time: u64,
}

pub fn stat(pid: i32) -> Option<ProcStat> {
    if pid <= 0 {
        return None;
    }
    let data = fs::read(format!("/proc/{}/stat", pid)).ok()?;
    parse_stat(&data)
}

/// Parses a stat line; the comm field may hold spaces and parentheses, so fields are counted
/// from the last ')'.
fn parse_stat(data: &[u8]) -> Option<ProcStat> {
    let close = data.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&data[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.as_bytes().first().copied()?;
    // state is field 3; start time is field 22, i.e. 19 fields further on.
    let start_time = fields.nth(18)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

/// True when `pid` is a living (non-zombie) process started at `start_time`.
pub fn is_alive(pid: i32, start_time: u64) -> bool {
    match stat(pid) {
        Some(s) => s.start_time == start_time && s.state != b'Z' && s.state != b'X',
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_stat_with_odd_comm() {
        let line =
            b"42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
        let s = super::parse_stat(line).unwrap();
        assert_eq!(s.state, b'S');
        assert_eq!(s.start_time, 123456);
    }

    #[test]
    fn reads_own_process() {
        let me = std::process::id() as i32;
        let s = super::stat(me).unwrap();
        assert!(super::is_alive(me, s.start_time));
        assert!(!super::is_alive(me, s.start_time + 1));
    }
}
