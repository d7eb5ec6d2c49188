use crate::cli::ListArgs;
use crate::{CmdResult, Ctx};
use rune_core::Container;

pub fn run(ctx: &Ctx, a: ListArgs) -> CmdResult {
    let all = Container::list(&ctx.store)?;
    if a.quiet {
        for c in &all {
            outln!("{}", c.id());
        }
        return Ok(0);
    }
    if a.format == "json" {
        outln!("{}", Container::list_json(&all));
        return Ok(0);
    }
    let rows: Vec<[String; 6]> = all
        .iter()
        .map(|c| {
            let s = c.oci_state();
            let f = |k: &str| {
                s[k].as_str()
                    .map(String::from)
                    .unwrap_or_else(|| s[k].to_string())
            };
            [
                f("id"),
                f("pid"),
                f("status"),
                f("bundle"),
                f("created"),
                f("owner"),
            ]
        })
        .collect();
    let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
    let mut widths = [0usize; 6];
    for r in std::iter::once(&header).chain(rows.iter()) {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    for r in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 5 {
                    c.clone()
                } else {
                    format!("{:<w$}", c, w = widths[i] + 3)
                }
            })
            .collect();
        outln!("{}", line.concat());
    }
    Ok(0)
}
