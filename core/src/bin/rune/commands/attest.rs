use crate::cli::AttestArgs;
use crate::{CmdResult, Ctx};
use rune_core::{Container, Error};
use std::io::Write;

pub fn run(ctx: &Ctx, a: AttestArgs) -> CmdResult {
    let c = Container::load(&ctx.store, &a.id)?;
    let target = match &a.target_info {
        Some(p) => std::fs::read(p)
            .map_err(|e| Error::io(format!("read target info {}", p.display()), e))?,
        None => Vec::new(),
    };
    let report = c.attest(&target)?;
    match &a.output {
        // An attestation report is the enclave's evidence: 0600, not the umask's choice.
        Some(p) => rune_core::files::create(p, 0o600)?
            .write_all(&report)
            .map_err(|e| Error::io(format!("write {}", p.display()), e))?,
        None => {
            let _ = std::io::stdout().write_all(&report);
        }
    }
    Ok(0)
}
