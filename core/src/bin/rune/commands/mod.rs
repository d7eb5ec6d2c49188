//! One file per subcommand; each is a few lines over rune-core.

mod attest;
mod checkpoint;
mod create;
mod delete;
mod events;
mod exec;
mod features;
mod kill;
mod list;
mod pause;
mod ps;
mod run;
mod spec;
mod start;
mod state;
mod update;

use crate::cli::Command;
use crate::{CmdResult, Ctx};

pub fn dispatch(ctx: &Ctx, cmd: Command) -> CmdResult {
    ctx.log.debug(&format!(
        "rune {:?} (root {})",
        cmd,
        ctx.store.root().display()
    ));
    match cmd {
        Command::Spec(a) => spec::run(a),
        Command::Create(a) => create::run(ctx, a),
        Command::Start(a) => start::run(ctx, &a.id),
        Command::Run(a) => run::run(ctx, *a),
        Command::State(a) => state::run(ctx, &a.id),
        Command::Kill(a) => kill::run(ctx, a),
        Command::Delete(a) => delete::run(ctx, a),
        Command::List(a) => list::run(ctx, a),
        Command::Exec(a) => exec::run(ctx, *a),
        Command::Ps(a) => ps::run(ctx, a),
        Command::Features => features::run(),
        Command::Attest(a) => attest::run(ctx, a),
        Command::Pause(a) => pause::pause(ctx, &a.id),
        Command::Resume(a) => pause::resume(ctx, &a.id),
        Command::Update(a) => update::run(ctx, *a),
        Command::Events(a) => events::run(ctx, a),
        Command::Checkpoint(a) => checkpoint::checkpoint(ctx, &a),
        Command::Restore(a) => checkpoint::restore(ctx, &a),
    }
}
