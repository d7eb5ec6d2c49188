//! `rune`: a thin CLI over rune-core, flag-compatible with runc.

// The C entry point below stands in for std's start (rune_core::sys::startup says why).
#![no_main]

/// println! that ignores a closed stdout (`rune state x | head` must not panic).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod help;
mod log;
mod supervise;

use rune_core::store::Store;

/// What a command hands back: the exit code to use.
pub type CmdResult = rune_core::Result<i32>;

pub struct Ctx {
    pub store: Store,
    pub log: log::Logger,
    pub systemd_cgroup: bool,
}

/// The binary's entry point (`main` for the C runtime): std's start, in the part rune needs.
#[allow(unsafe_code)] // no_mangle: the one `main` symbol of the binary
#[no_mangle]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    rune_core::sys::startup::startup();
    // A panic exits 101, as from a Rust main (its message is already printed).
    if std::panic::catch_unwind(rune_main).is_err() {
        std::process::exit(101);
    }
    // Through std's exit, which flushes stdout.
    std::process::exit(0)
}

fn rune_main() {
    let args: Vec<String> = std::env::args().collect();
    // The hidden init entry point, before any parsing: it must start fast.
    // What the init is to be comes in its first message.
    if args.len() == 3 && args[1] == "init" {
        let exit = rune_core::process::init::main(&args[2]);
        if let Some(report) = exit.report {
            eprintln!("{}", report);
        }
        // At once: an enclave keeper's PAL threads may still run; no atexit handler of theirs.
        rune_core::sys::exec::exit_now(exit.code);
    }
    // Usage errors exit 1, as runc's do (clap's own code is 2); help and version exit 0.
    let cli = help::parse();
    if cli.g.version {
        println!("{}", help::version_lines());
        return;
    }
    let g = &cli.g;
    let log = log::Logger::new(g.log.clone(), &g.log_format, g.debug);
    let command = match cli.command {
        Some(c) => c,
        None => {
            help::print_root();
            std::process::exit(0);
        }
    };
    let ctx = Ctx {
        store: Store::new(default_root(g.root.clone())),
        log,
        systemd_cgroup: g.systemd_cgroup,
    };
    // exec reports its own errors with runc's 255.
    let fail_code = if matches!(command, cli::Command::Exec(_)) {
        255
    } else {
        1
    };
    let code = match commands::dispatch(&ctx, command) {
        Ok(code) => code,
        Err(e) => {
            ctx.log.error(e.message());
            fail_code
        }
    };
    std::process::exit(code);
}

/// `--root`, or the default root (rune_core::store::default_root).
fn default_root(given: Option<std::path::PathBuf>) -> std::path::PathBuf {
    given.unwrap_or_else(rune_core::store::default_root)
}
