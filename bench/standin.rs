//! An instant stand-in for helm or kubectl: prints the file `<its own path>.out` and exits,
//! whatever its arguments.
//!
//! The bare tools take 45-75 ms a run here and vary by several milliseconds from run to run,
//! more than vaultplate adds to a render; with this stand-in in their place (a copy named
//! `helm` or `kubectl` next to the output the real tool printed), the difference between
//! `vaultplate render` and the stand-in alone is vaultplate's own share of a render.
//!
//! Built by bench/run with `rustc -O`; standard library only. (vaultplate gives its children a
//! private environment, so the file is found next to the program, not through a variable.)

use std::io::Write;

fn main() {
    let me = std::env::current_exe().expect("own path");
    let mut path = me.into_os_string();
    path.push(".out");
    let text = std::fs::read(&path).expect("the stand-in's .out file");
    std::io::stdout().write_all(&text).expect("stdout");
}
