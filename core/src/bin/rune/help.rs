//! The command line's help in runc's layout (urfave/cli's NAME, USAGE, VERSION, COMMANDS,
//! GLOBAL OPTIONS and OPTIONS sections), and runc's answers to what it cannot parse.

use crate::cli::{self, Cli, Globals};
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;

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
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(cli) = parse_verb(&args) {
        return cli;
    }
    // The plain command first: building the help templates costs a quarter of a `run`'s
    // user time, so they are made only when help is what the command line asks for.
    let matches = Cli::command()
        .try_get_matches_from(&args)
        .unwrap_or_else(|e| {
            if e.kind() == clap::error::ErrorKind::DisplayHelp {
                if let Err(e) = command().try_get_matches() {
                    exit_with(e);
                }
            }
            exit_with(e)
        });
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| exit_with(e))
}

/// The command's name: the first argument that is neither an option nor a global option's
/// value.
fn verb(args: &[OsString]) -> Option<&str> {
    let mut rest = args.iter().skip(1).map(|a| a.to_str());
    while let Some(a) = rest.next() {
        let a = a?;
        if cli::GLOBALS_WITH_VALUES.contains(&a) {
            rest.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}

/// The commands clients run for every container (create, start, run, exec, ...), parsed by a
/// parser of that command alone: building clap's whole tree was a fifth of such a command's
/// user time. Anything that parser does not take as it is (help, a usage error) goes to the
/// whole parser, whose answer is the one runc's users know.
fn parse_verb(args: &[OsString]) -> Option<Cli> {
    let m = cli::parser_for(verb(args)?)?
        .try_get_matches_from(args)
        .ok()?;
    Some(Cli {
        g: Globals::from_arg_matches(&m).ok()?,
        command: Some(cli::Command::from_arg_matches(&m).ok()?),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn full(args: &[&str]) -> String {
        let m = Cli::command().try_get_matches_from(args).unwrap();
        format!("{:?}", Cli::from_arg_matches(&m).unwrap())
    }

    /// The one-command parser gives what the whole parser gives, option for option.
    #[test]
    fn one_command_parses_as_the_whole_parser() {
        let lines: &[&[&str]] = &[
            &["rune", "run", "--bundle", "/b", "id"],
            &[
                "rune",
                "--root",
                "/r",
                "--log",
                "/l",
                "--log-format=json",
                "run",
                "-d",
                "--bundle",
                "/b",
                "--pid-file",
                "/p",
                "id",
            ],
            &[
                "rune",
                "--debug",
                "--systemd-cgroup",
                "create",
                "--bundle=/b",
                "--console-socket",
                "/s",
                "--no-pivot",
                "--preserve-fds",
                "2",
                "id",
            ],
            &["rune", "start", "id", "--root", "/r"],
            &["rune", "state", "id"],
            &[
                "rune", "--root", "/run/x", "exec", "-t", "--cwd", "/w", "-e", "A=1", "--user",
                "1:2", "id", "sh", "-c", "echo $A",
            ],
            &["rune", "exec", "--process", "/p.json", "-d", "id"],
            &["rune", "exec", "id", "ls", "-la", "--", "-x"],
            &["rune", "kill", "--all", "id", "KILL"],
            &["rune", "kill", "id"],
            &["rune", "delete", "-f", "id"],
            &["rune", "--rootless", "auto", "pause", "id"],
            &["rune", "resume", "id"],
        ];
        for line in lines {
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            let fast = parse_verb(&args).unwrap_or_else(|| panic!("{line:?}: not parsed"));
            assert_eq!(format!("{fast:?}"), full(line), "{line:?}");
        }
    }

    /// Help and usage errors are not the one-command parser's: the whole parser answers them.
    #[test]
    fn help_and_errors_go_to_the_whole_parser() {
        for line in [
            &["rune", "run", "--help"][..],
            &["rune", "run"],
            &["rune", "exec", "--nosuch", "id", "true"],
            &["rune", "list"],
            &["rune", "--root"],
        ] {
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            assert!(parse_verb(&args).is_none(), "{line:?}");
        }
    }
}
