//! Runs one command and prints its wall time, CPU time and peak RSS as one line of JSON.
//!
//! `measure [--stdin FILE] [--stdout FILE] [--cwd DIR] [--anon-peak] -- PROGRAM ARGS...`
//!
//! `--anon-peak` also samples the child's anonymous memory (`RssAnon` in `/proc/PID/status`:
//! heap, stacks, the input; not the code pages mapped from files) every 200 us and prints the
//! largest sample as `anon_peak_kb`. Reading the child's status takes a lock it needs for its
//! page faults, so a sampled run's times are not reported; the bench makes separate runs.
//!
//! Why not Python's `os.wait4` on a child of the bench script: Linux counts the memory a child
//! had before `exec` in its peak RSS, and a child that Python starts (with vfork) has, before
//! `exec`, the whole Python process's memory: every figure would be at least the size of the
//! bench script. This launcher is small, so its children's peaks are their own.
//!
//! Built by bench/run with `rustc -O`; standard library only (wait4 declared by hand).

use std::fs::File;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[repr(C)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

fn seconds(t: &Timeval) -> f64 {
    t.sec as f64 + t.usec as f64 / 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut command: Option<Command> = None;
    let (mut stdin, mut stdout, mut cwd) = (None, None, None);
    let mut anon_peak = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--anon-peak" => anon_peak = true,
            "--stdin" => stdin = args.next(),
            "--stdout" => stdout = args.next(),
            "--cwd" => cwd = args.next(),
            "--" => {
                let program = args.next().expect("a program after --");
                let mut c = Command::new(program);
                c.args(args.by_ref());
                command = Some(c);
            }
            other => panic!("unknown argument {other:?}"),
        }
    }
    let mut command = command.expect("usage: measure [--stdin F] [--stdout F] [--cwd D] -- PROGRAM ARGS...");
    command.stdin(match stdin {
        Some(path) => Stdio::from(File::open(path).expect("the --stdin file")),
        None => Stdio::null(),
    });
    command.stdout(match stdout {
        Some(path) => Stdio::from(File::create(path).expect("the --stdout file")),
        None => Stdio::null(),
    });
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let started = Instant::now();
    let child = command.spawn().expect("starting the program");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = anon_peak.then(|| {
        let (done, pid) = (Arc::clone(&done), child.id());
        std::thread::spawn(move || {
            let mut peak = 0u64;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_anon_kb(pid).unwrap_or(0));
                std::thread::sleep(Duration::from_micros(200));
            }
            peak
        })
    });
    let mut status = 0;
    let mut usage: Rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a pid of our own child, and pointers to live locals of the right layout.
    let pid = unsafe { wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    assert!(pid > 0, "wait4 failed");
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    };
    done.store(true, Ordering::Relaxed);
    let anon = sampler.map_or(String::new(), |s| {
        format!(", \"anon_peak_kb\": {}", s.join().expect("the sampler"))
    });
    println!(
        "{{\"wall\": {wall}, \"user\": {}, \"sys\": {}, \"maxrss_kb\": {}, \"status\": {code}{anon}}}",
        seconds(&usage.utime),
        seconds(&usage.stime),
        usage.maxrss
    );
    std::mem::forget(child);
}

/// The `RssAnon` of process `pid` in KiB; `None` once it has exited.
fn rss_anon_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
