//! The command line, flag for flag as runc's man pages describe it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "rune",
    about = "rune: an OCI container runtime that runs enclave runtimes",
    disable_version_flag = true
)]
pub struct Cli {
    #[command(flatten)]
    pub g: Globals,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The global options (before or after the command).
#[derive(Args, Debug)]
pub struct Globals {
    /// Root directory for container state (should be on tmpfs) [default: /run/rune, or
    /// $XDG_RUNTIME_DIR/rune for a non-root user]
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    /// Log destination (default: stderr)
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long = "log-format", global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Enable debug logging
    #[arg(long, global = true)]
    pub debug: bool,
    /// Enable systemd cgroup support: cgroupsPath is "slice:prefix:name" (e.g.
    /// "system.slice:rune:434234"), and systemd makes the container's cgroup (a transient unit)
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless mode: true, false or auto (accepted for runc compatibility)
    #[arg(long, value_name = "true|false|auto")]
    pub rootless: Option<String>,
    /// Path to criu (accepted for runc compatibility; checkpointing is not supported)
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
    /// Print the version
    #[arg(short = 'v', long = "version")]
    pub version: bool,
}

/// The global options that take a value (`--root DIR`), to find the command after them.
pub const GLOBALS_WITH_VALUES: &[&str] =
    &["--root", "--log", "--log-format", "--rootless", "--criu"];

/// The command line's parser for just `verb` (one of the commands that clients run for every
/// container), the same flags as in the whole parser; None for the other commands.
pub fn parser_for(verb: &str) -> Option<clap::Command> {
    type Augment = fn(clap::Command) -> clap::Command;
    let (name, augment): (&'static str, Augment) = match verb {
        "create" => ("create", CreateArgs::augment_args),
        "run" => ("run", RunArgs::augment_args),
        "exec" => ("exec", ExecArgs::augment_args),
        "kill" => ("kill", KillArgs::augment_args),
        "delete" => ("delete", DeleteArgs::augment_args),
        "start" => ("start", IdArg::augment_args),
        "state" => ("state", IdArg::augment_args),
        "pause" => ("pause", IdArg::augment_args),
        "resume" => ("resume", IdArg::augment_args),
        _ => return None,
    };
    let sub = augment(clap::Command::new(name));
    let root = clap::Command::new("rune").disable_version_flag(true);
    Some(Globals::augment_args(root).subcommand(sub))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new specification file (config.json)
    Spec(SpecArgs),
    /// Create a container
    Create(CreateArgs),
    /// Start a created container
    Start(IdArg),
    /// Create and start a container
    Run(Box<RunArgs>),
    /// Output the state of a container
    State(IdArg),
    /// Send a signal to the container's init process
    Kill(KillArgs),
    /// Delete any resources held by the container
    Delete(DeleteArgs),
    /// List containers started by rune with the given --root
    List(ListArgs),
    /// Execute a new process inside the container
    Exec(Box<ExecArgs>),
    /// Display the processes inside a container
    Ps(PsArgs),
    /// Show the enabled features of the runtime
    Features,
    /// Get a local attestation report from an enclave container (PAL v3)
    Attest(AttestArgs),
    /// Suspend all processes inside the container
    Pause(IdArg),
    /// Resume all processes that were paused
    Resume(IdArg),
    /// Update the container's resource limits
    Update(Box<UpdateArgs>),
    /// Display container events (OOM notifications) and statistics
    Events(EventsArgs),
    /// Checkpoint a running container (not supported: rune has no CRIU support)
    Checkpoint(UnsupportedArgs),
    /// Restore a container from a checkpoint (not supported: rune has no CRIU support)
    Restore(UnsupportedArgs),
}

/// Whatever runc's checkpoint and restore take, so the answer is rune's clear error rather
/// than a usage error.
#[derive(Args, Debug)]
pub struct UnsupportedArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Display the container's statistics once, then exit
    #[arg(long)]
    pub stats: bool,
    /// Interval between statistics (e.g. 5s, 500ms)
    #[arg(long, default_value = "5s")]
    pub interval: String,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// JSON file (or - for stdin) with the linux.resources to apply
    #[arg(short = 'r', long)]
    pub resources: Option<PathBuf>,
    // Numbers are parsed by the command, so that a bad one is runc's "invalid value for ...".
    #[arg(long = "blkio-weight", allow_negative_numbers = true)]
    pub blkio_weight: Option<String>,
    #[arg(long = "cpu-period", allow_negative_numbers = true)]
    pub cpu_period: Option<String>,
    #[arg(long = "cpu-quota", allow_negative_numbers = true)]
    pub cpu_quota: Option<String>,
    /// CPU burst limit within a period (in microseconds)
    #[arg(long = "cpu-burst", allow_negative_numbers = true)]
    pub cpu_burst: Option<String>,
    #[arg(
        long = "cpu-share",
        alias = "cpu-shares",
        allow_negative_numbers = true
    )]
    pub cpu_share: Option<String>,
    #[arg(long = "cpu-rt-period", allow_negative_numbers = true)]
    pub cpu_rt_period: Option<String>,
    #[arg(long = "cpu-rt-runtime", allow_negative_numbers = true)]
    pub cpu_rt_runtime: Option<String>,
    #[arg(long = "cpuset-cpus", allow_negative_numbers = true)]
    pub cpuset_cpus: Option<String>,
    #[arg(long = "cpuset-mems", allow_negative_numbers = true)]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with a k/m/g suffix)
    #[arg(long, allow_negative_numbers = true)]
    pub memory: Option<String>,
    #[arg(long = "memory-reservation", allow_negative_numbers = true)]
    pub memory_reservation: Option<String>,
    #[arg(long = "memory-swap", allow_negative_numbers = true)]
    pub memory_swap: Option<String>,
    #[arg(long = "pids-limit", allow_negative_numbers = true)]
    pub pids_limit: Option<String>,
    /// Intel RDT/CAT L3 cache schema
    #[arg(long = "l3-cache-schema")]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT/MBA memory bandwidth schema
    #[arg(long = "mem-bw-schema")]
    pub mem_bw_schema: Option<String>,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct AttestArgs {
    /// File with the target info to pass to the enclave runtime (default: empty)
    #[arg(long = "target-info")]
    pub target_info: Option<PathBuf>,
    /// Where to write the report (default: stdout)
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct IdArg {
    pub id: String,
}

#[derive(Args, Debug)]
pub struct SpecArgs {
    /// Path to the root of the bundle directory
    #[arg(short = 'b', long)]
    pub bundle: Option<PathBuf>,
    /// Generate a configuration for a rootless container
    #[arg(long)]
    pub rootless: bool,
    /// Enclave type (intelSgx, awsNitroEnclaves, jailhouse, sim): writes the enclave.type annotation
    #[arg(long = "enclave-type")]
    pub enclave_type: Option<String>,
    /// Host path of the enclave runtime (PAL) library: enclave.runtime.path
    #[arg(long = "enclave-path")]
    pub enclave_path: Option<String>,
    /// Enclave runtime arguments, comma-separated: enclave.runtime.args
    #[arg(long = "enclave-args")]
    pub enclave_args: Option<String>,
    /// Enclave runtime log level: enclave.runtime.loglevel
    #[arg(long = "enclave-loglevel")]
    pub enclave_loglevel: Option<String>,
    /// How the PAL reports exit values, `code` or `wait-status` (default: guessed from the
    /// PAL's exports): enclave.runtime.exit-status
    #[arg(long = "enclave-exit-status")]
    pub enclave_exit_status: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    /// Path to the root of the bundle directory
    #[arg(short = 'b', long)]
    pub bundle: Option<PathBuf>,
    /// Path to an AF_UNIX socket that receives the pty master
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// File to write the container init's pid to
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Do not use pivot_root to jail the process inside the rootfs
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N additional file descriptors to the container
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: i32,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Detach from the container's process
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep the container's state and cgroup after it exits
    #[arg(long)]
    pub keep: bool,
    /// Do not use a subreaper to reap reparented processes
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Send the signal to all processes of the container
    #[arg(short = 'a', long)]
    pub all: bool,
    pub id: String,
    /// Signal name or number (default SIGTERM)
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Forcibly delete a running container (SIGKILL first)
    #[arg(short = 'f', long)]
    pub force: bool,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// table or json
    #[arg(short = 'f', long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Display only container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// table or json
    #[arg(short = 'f', long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    pub id: String,
    /// Options passed to ps(1)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Path to an AF_UNIX socket that receives the pty master
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Current working directory in the container
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set an environment variable (NAME=VALUE)
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// UID[:GID] to run as
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Additional gids
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// process.json with the process to run
    #[arg(short = 'p', long)]
    pub process: Option<PathBuf>,
    /// Detach from the process
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// File to write the process's pid to
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// SELinux process label
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    /// AppArmor profile
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Set no_new_privs for the process
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// Add a capability to the bounding set (and the others)
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    /// Pass N additional file descriptors
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: i32,
    /// Allow exec in a paused container
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    /// Run the process in a sub-cgroup
    #[arg(long)]
    pub cgroup: Vec<String>,
    pub id: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
