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
    // An OOM kill counted since the last look is reported once.
    let report = |ooms: &mut u64| {
        let now = c.oom_kills();
        if now > *ooms {
            outln!("{}", serde_json::json!({"type": "oom", "id": c.id()}));
            *ooms = now;
        }
    };
    loop {
        report(&mut ooms);
        if c.status() == Status::Stopped {
            // The kernel counts an OOM kill just after it sends the SIGKILL (and logs it): the
            // init may be gone a moment before its kill is counted. Look again for a short
            // while, so that it is still reported before the stream ends.
            let until = Instant::now() + Duration::from_millis(250);
            let before = ooms;
            while ooms == before && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(25));
                report(&mut ooms);
            }
            return Ok(0);
        }
        if Instant::now() >= next {
            match c.stats() {
                Ok(s) => outln!("{}", s),
                Err(_) => {
                    report(&mut ooms);
                    return Ok(0);
                }
            }
            next += interval;
        }
        std::thread::sleep(Duration::from_millis(50).min(interval));
    }
}
