//! The command line's help in runc's layout (urfave/cli's NAME, USAGE, VERSION, COMMANDS,
//! GLOBAL OPTIONS and OPTIONS sections), and runc's answers to what it cannot parse.

use crate::cli::Cli;
use clap::{CommandFactory, FromArgMatches};

/// `rune --version`'s lines, as runc prints them: version, commit, spec, libraries.
pub fn version_lines() -> String {
    let mut v = format!(
        "rune version {}\ncommit: {}\nspec: {}",
        rune_core::VERSION,
        env!("RUNE_COMMIT"),
        rune_core::OCI_VERSION
    );
    #[cfg(feature = "seccomp")]
    v.push_str(&format!(
        "\nlibseccomp: {}",
        rune_core::security::seccomp::libseccomp_version()
    ));
    v
}

fn command() -> clap::Command {
    let version = version_lines().replacen("rune version ", "", 1);
    let root = format!(
        "NAME:\n   {{name}} - Open Container Initiative runtime that runs enclave runtimes\n\nUSAGE:\n   {{name}} [global options] command \
         [command options] [arguments...]\n\nVERSION:\n   {version}\n\nCOMMANDS:\n\
         {{subcommands}}\n\nGLOBAL OPTIONS:\n{{options}}\n"
    );
    Cli::command().help_template(root).mut_subcommands(|c| {
        let sub = format!(
            "NAME:\n   rune {} - {{about}}\n\nUSAGE:\n   {{usage}}\n\nOPTIONS:\n{{options}}\n",
            c.get_name()
        );
        c.help_template(sub)
    })
}

/// Parses the command line; help, usage errors and unknown commands end the process with
/// runc's exit codes (0 for help, 1 for a usage error, 3 for an unknown command).
pub fn parse() -> Cli {
    // The plain command first: building the help templates costs a quarter of a `run`'s
    // user time, so they are made only when help is what the command line asks for.
    let matches = Cli::command().try_get_matches().unwrap_or_else(|e| {
        if e.kind() == clap::error::ErrorKind::DisplayHelp {
            if let Err(e) = command().try_get_matches() {
                exit_with(e);
            }
        }
        exit_with(e)
    });
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| exit_with(e))
}

/// Prints the root help, as `rune` with no command does.
pub fn print_root() {
    let _ = command().print_help();
}

fn exit_with(e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let code = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
        ErrorKind::InvalidSubcommand => {
            // urfave/cli's answer, with its exit code.
            let name = match e.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            crate::log::Logger::new(None, "text", false)
                .error(&format!("No help topic for '{}'", name));
            std::process::exit(3);
        }
        _ => 1,
    };
    let _ = e.print();
    std::process::exit(code)
}
