//! pal_destroy runs once, after a successful pal_init, whoever asks and however often: checked
//! against a real PAL built here that counts its calls.

use super::Pal;
use std::path::{Path, PathBuf};

const COUNTING_PAL: &str = r#"
#include <unistd.h>
static int destroys;
int pal_get_version(void) { return 2; }
int pal_init(void *attr) { (void)attr; return 0; }
int pal_create_process(void *args) { (void)args; return 0; }
int pal_exec(void *args) { (void)args; return 0; }
int pal_kill(int pid, int sig) { (void)pid; (void)sig; return 0; }
int pal_destroy(void) { __atomic_add_fetch(&destroys, 1, __ATOMIC_SEQ_CST); usleep(20000); return 0; }
int destroy_count(void) { return __atomic_load_n(&destroys, __ATOMIC_SEQ_CST); }
"#;

/// Builds a fresh copy of the counting PAL (each test its own library, so counts are its own).
fn build(name: &str) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new(name);
    let src = dir.0.join("pal.c");
    let lib = dir.0.join(format!("lib{name}.so"));
    std::fs::write(&src, COUNTING_PAL).unwrap();
    let st = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .expect("run cc");
    assert!(st.success(), "cc failed");
    (dir, lib)
}

/// The test's own handle on the library: it stays mapped (its count kept) after a Pal goes.
struct Counter(libloading::os::unix::Library);

impl Counter {
    fn open(lib: &Path) -> Counter {
        // SAFETY: the library built above has no initialisers.
        Counter(unsafe {
            libloading::os::unix::Library::open(Some(lib), libloading::os::unix::RTLD_NOW).unwrap()
        })
    }

    fn destroys(&self) -> i32 {
        // SAFETY: destroy_count takes nothing and returns an int.
        unsafe {
            let f: libloading::os::unix::Symbol<unsafe extern "C" fn() -> i32> =
                self.0.get(b"destroy_count").unwrap();
            f()
        }
    }
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Dir {
            let p = std::env::temp_dir().join(format!("rune-pal-{}-{}", name, std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn concurrent_destroys_call_pal_destroy_once() {
    let (_d, lib) = build("concurrent");
    let counter = Counter::open(&lib);
    let pal = std::sync::Arc::new(Pal::load(&lib).unwrap());
    pal.init("", "off").unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let p = pal.clone();
            std::thread::spawn(move || p.destroy().unwrap())
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    pal.destroy().unwrap();
    assert_eq!(counter.destroys(), 1);
    drop(pal);
    assert_eq!(counter.destroys(), 1, "drop after destroy destroyed again");
}

#[test]
fn an_initialised_pal_dropped_is_destroyed() {
    let (_d, lib) = build("dropped");
    let counter = Counter::open(&lib);
    let pal = Pal::load(&lib).unwrap();
    pal.init("", "off").unwrap();
    drop(pal);
    assert_eq!(counter.destroys(), 1);
}

#[test]
fn a_pal_never_initialised_is_not_destroyed() {
    let (_d, lib) = build("uninit");
    let counter = Counter::open(&lib);
    let pal = Pal::load(&lib).unwrap();
    pal.destroy().unwrap();
    drop(pal);
    assert_eq!(counter.destroys(), 0);
}
