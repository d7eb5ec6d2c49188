//! `events`: statistics once (`--stats`) or a stream of stats every `--interval`, with OOM
//! events as they happen, one JSON object per line as runc prints them.

use crate::cli::EventsArgs;
use crate::{CmdResult, Ctx};
use rune_core::{err, Container, Status};
use std::time::{Duration, Instant};

fn duration(s: &str) -> rune_core::Result<Duration> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n
        .parse()
        .map_err(|_| err!(InvalidArgument, "invalid interval {:?}", s))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" | "µs" => n / 1e6,
        "ns" => n / 1e9,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(err!(InvalidArgument, "invalid interval {:?}", s)),
    };
    if secs <= 0.0 {
        return Err(err!(InvalidArgument, "the interval must be greater than 0"));
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn run(ctx: &Ctx, a: EventsArgs) -> CmdResult {
    let interval = duration(&a.interval)?;
    let c = Container::load(&ctx.store, &a.id)?;
    if a.stats {
        outln!("{}", c.stats()?);
        return Ok(0);
    }
    let mut ooms = c.oom_kills();
    let mut next = Instant::now();
    loop {
        // Read before the status: when the OOM killer took the init itself, its kill is still
        // reported before the stream ends.
        let now = c.oom_kills();
        if now > ooms {
            outln!("{}", serde_json::json!({"type": "oom", "id": c.id()}));
            ooms = now;
        }
        if c.status() == Status::Stopped {
            return Ok(0);
        }
        if Instant::now() >= next {
            match c.stats() {
                Ok(s) => outln!("{}", s),
                Err(_) => return Ok(0),
            }
            next += interval;
        }
        std::thread::sleep(Duration::from_millis(50).min(interval));
    }
}
