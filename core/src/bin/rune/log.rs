//! runc's log output: `--log FILE` (default stderr) in text (`time="..." level=error msg="..."`)
//! or json (`{"level":"error","msg":"...","time":"..."}`, one object per line; containerd reports
//! the last `msg` of the file as the error).

use std::io::Write;
use std::path::PathBuf;

pub struct Logger {
    file: Option<PathBuf>,
    json: bool,
    pub debug: bool,
}

impl Logger {
    pub fn new(file: Option<PathBuf>, format: &str, debug: bool) -> Logger {
        Logger {
            file,
            json: format == "json",
            debug,
        }
    }

    pub fn log(&self, level: &str, msg: &str) {
        let time = rune_core::store::rfc3339_now();
        let line = if self.json {
            let mut s = serde_json::json!({"level": level, "msg": msg, "time": time}).to_string();
            s.push('\n');
            s
        } else {
            format!("time={:?} level={} msg={:?}\n", time, level, msg)
        };
        match &self.file {
            Some(p) => {
                if let Ok(mut f) = rune_core::files::append(p, 0o644) {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.log("debug", msg);
        }
    }

    /// An error: logged, and also printed plainly on stderr when the log goes to a file.
    pub fn error(&self, msg: &str) {
        self.log("error", msg);
        if self.file.is_some() {
            eprintln!("rune: {}", msg);
        }
    }
}
