use crate::cli::PsArgs;
use crate::{CmdResult, Ctx};
use rune_core::{err, Container};

pub fn run(ctx: &Ctx, a: PsArgs) -> CmdResult {
    let c = Container::load(&ctx.store, &a.id)?;
    let pids: Vec<i32> = match &c.state().cgroup_path {
        Some(p) => rune_core::cgroups::manager(p).pids(),
        None => vec![c.pid()],
    };
    if a.format == "json" {
        outln!("{}", serde_json::json!(pids));
        return Ok(0);
    }
    let args = if a.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        a.ps_args.clone()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| rune_core::Error::io("run ps", e))?;
    if !out.status.success() {
        return Err(err!(
            Internal,
            "ps failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| err!(InvalidArgument, "couldn't find PID field in ps output"))?;
    outln!("{}", header);
    for l in lines {
        if let Some(pid) = l
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok())
        {
            if pids.contains(&pid) {
                outln!("{}", l);
            }
        }
    }
    Ok(0)
}
