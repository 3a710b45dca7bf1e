//! The gate that makes "print everything" and "give up" exclusive.
//!
//! Output is only written through [`OutputGate::finish`], and a run that is stopped (by the
//! deadline or a signal, see [`crate::shell::signals`]) gives up through [`OutputGate::give_up`]:
//! whichever comes first wins, so a stopped run prints nothing on stdout and a run that has
//! started printing is not cut short.

use std::sync::{Arc, Mutex, PoisonError};

/// Decides once whether the run finishes normally or is stopped.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutputGate {
    decided: Arc<Mutex<bool>>,
}

impl OutputGate {
    /// Runs `stop` (which ends the process) unless the output was already decided; output
    /// cannot start while it runs. Returns whether it ran.
    pub(crate) fn give_up(&self, stop: impl FnOnce()) -> bool {
        let mut decided = self.decided.lock().unwrap_or_else(PoisonError::into_inner);
        if *decided {
            return false;
        }
        *decided = true;
        stop();
        true
    }

    /// Runs `write` unless the run was already stopped; a stop waits while it runs.
    pub(crate) fn finish<T>(&self, write: impl FnOnce() -> T) -> Option<T> {
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
    use super::*;

    #[test]
    fn finishing_first_disarms_giving_up() {
        let gate = OutputGate::default();
        assert_eq!(gate.finish(|| 7), Some(7));
        let mut stopped = false;
        assert!(!gate.give_up(|| stopped = true));
        assert!(!stopped);
    }

    #[test]
    fn after_giving_up_nothing_is_written() {
        let gate = OutputGate::default();
        let mut stopped = false;
        assert!(gate.clone().give_up(|| stopped = true));
        assert!(stopped);
        assert_eq!(gate.finish(|| 7), None);
    }
}
