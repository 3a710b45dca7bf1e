//! The whole-run deadline, and the gate that makes "print everything" and "give up" exclusive.
//!
//! Argo CD kills a plugin that runs past its exec timeout (90 s by default) and shows a bare
//! "signal: killed". A run that ends itself a little earlier can say why, and since output is
//! only written through [`OutputGate::finish`], a run stopped by the deadline prints nothing on
//! stdout.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Decides once whether the run finishes normally or by the deadline.
#[derive(Debug, Clone, Default)]
pub struct OutputGate {
    decided: Arc<Mutex<bool>>,
}

impl OutputGate {
    /// Starts a watchdog that, unless [`OutputGate::finish`] came first, calls `expire` once
    /// `deadline` has passed (while holding the gate, so no output can start meanwhile).
    pub fn arm(deadline: Duration, expire: impl FnOnce() + Send + 'static) -> Self {
        let gate = OutputGate::default();
        let watched = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(deadline);
            watched.give_up(expire);
        });
        gate
    }

    /// Runs `stop` (which ends the process) unless the output was already decided; output
    /// cannot start while it runs. Returns whether it ran.
    pub fn give_up(&self, stop: impl FnOnce()) -> bool {
        let mut decided = self.decided.lock().unwrap_or_else(PoisonError::into_inner);
        if *decided {
            return false;
        }
        *decided = true;
        stop();
        true
    }

    /// Runs `write` unless the deadline already expired; the watchdog waits while it runs.
    pub fn finish<T>(&self, write: impl FnOnce() -> T) -> Option<T> {
        let mut decided = self.decided.lock().unwrap_or_else(PoisonError::into_inner);
        if *decided {
            return None;
        }
        *decided = true;
        Some(write())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[test]
    fn finishing_first_disarms_the_watchdog() {
        let fired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let gate = OutputGate::arm(Duration::from_millis(50), move || {
            flag.store(true, Ordering::SeqCst)
        });
        assert_eq!(gate.finish(|| 7), Some(7));
        std::thread::sleep(Duration::from_millis(150));
        assert!(!fired.load(Ordering::SeqCst));
    }

    #[test]
    fn after_expiry_nothing_is_written() {
        let fired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let gate = OutputGate::arm(Duration::from_millis(10), move || {
            flag.store(true, Ordering::SeqCst)
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(fired.load(Ordering::SeqCst));
        assert_eq!(gate.finish(|| 7), None);
    }
}
