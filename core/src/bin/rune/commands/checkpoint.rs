//! `checkpoint` and `restore`: rune has no CRIU support, but the checks runc makes before it
//! calls CRIU are made as runc makes them (the container, its state, `--parent-path`), so a
//! caller gets the same answer for the same mistake; then the clear "not supported".

use crate::cli::UnsupportedArgs;
use crate::{CmdResult, Ctx};
use rune_core::{err, Container, Status};
use std::path::{Path, PathBuf};

/// The value of `--name X` or `--name=X` in runc's flag grammar, and the last plain argument.
fn parse(a: &UnsupportedArgs) -> (Option<String>, Option<String>, Option<String>) {
    let (mut image, mut parent, mut id) = (None, None, None);
    let mut it = a.rest.iter().peekable();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned());
        match name {
            "--image-path" => image = value(),
            "--parent-path" => parent = value(),
            "--work-path"
            | "--page-server"
            | "--manage-cgroups-mode"
            | "--empty-ns"
            | "--status-fd"
            | "--bundle"
            | "-b"
            | "--console-socket"
            | "--pid-file" => {
                value();
            }
            a if a.starts_with('-') => {}
            _ => id = Some(arg.clone()),
        }
    }
    (image, parent, id)
}

/// runc's prepareImagePaths: a parent path is relative to the image path, and a directory.
fn check_parent(image: Option<&str>, parent: Option<&str>) -> rune_core::Result<()> {
    let Some(parent) = parent.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    if Path::new(parent).is_absolute() {
        return Err(err!(InvalidArgument, "--parent-path must be relative"));
    }
    let image = image.map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_dir()
            .unwrap_or_default()
            .join("checkpoint")
    });
    let real = image.join(parent);
    match std::fs::metadata(&real) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(err!(
            InvalidArgument,
            "invalid --parent-path: stat {}: not a directory",
            real.display()
        )),
        Err(e) => Err(err!(
            InvalidArgument,
            "invalid --parent-path: stat {}: {}",
            real.display(),
            rune_core::error::io_desc(&e)
        )),
    }
}

fn unsupported() -> rune_core::Error {
    err!(
        InvalidArgument,
        "checkpoint and restore are not supported by rune (no CRIU support)"
    )
}

pub fn checkpoint(ctx: &Ctx, a: &UnsupportedArgs) -> CmdResult {
    let (image, parent, id) = parse(a);
    let id = id.ok_or_else(|| err!(InvalidArgument, "container id cannot be empty"))?;
    let c = Container::load(&ctx.store, &id)?;
    let status = c.status();
    if matches!(status, Status::Created | Status::Stopped) {
        return Err(err!(
            InvalidState,
            "Container cannot be checkpointed in {} state",
            status.as_str()
        ));
    }
    check_parent(image.as_deref(), parent.as_deref())?;
    Err(unsupported())
}

pub fn restore(_ctx: &Ctx, a: &UnsupportedArgs) -> CmdResult {
    let (image, parent, id) = parse(a);
    check_parent(image.as_deref(), parent.as_deref())?;
    let id = id.ok_or_else(|| err!(InvalidArgument, "container id cannot be empty"))?;
    rune_core::store::validate_id(&id)?;
    Err(unsupported())
}
