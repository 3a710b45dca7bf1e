//! The run's watchdog: one thread that waits for SIGTERM, SIGINT or the deadline, whichever
//! comes first. Argo CD sends SIGTERM to the plugin's process group when its exec timeout
//! expires, and kills a plugin that runs past it with a bare "signal: killed"; a run that stops
//! itself can say why, stop its children and print nothing on stdout.

use std::time::Duration;

/// Why the run is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The deadline passed.
    Deadline,
    /// The process received this signal (`SIGTERM` or `SIGINT`).
    Signal(&'static str),
}

/// Calls `stop` on a watchdog thread at the first of: SIGTERM, SIGINT, `deadline` from now.
///
/// One thread for both (a run starts few, and each costs start-up time): it runs a small
/// runtime of its own, so that it keeps watching while the run's own work blocks.
pub(crate) fn watch(deadline: Duration, stop: impl FnOnce(Stop) + Send + 'static) {
    let started = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build();
            let Ok(runtime) = runtime else {
                return tracing::warn!("cannot start the watchdog: no deadline for this run");
            };
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let signals = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                );
                let why = match signals {
                    (Ok(mut term), Ok(mut int)) => tokio::select! {
                        _ = term.recv() => Stop::Signal("SIGTERM"),
                        _ = int.recv() => Stop::Signal("SIGINT"),
                        () = tokio::time::sleep(deadline) => Stop::Deadline,
                    },
                    // The deadline is still kept.
                    _ => {
                        tracing::warn!("cannot watch SIGTERM and SIGINT");
                        tokio::time::sleep(deadline).await;
                        Stop::Deadline
                    }
                };
                stop(why);
            });
        });
    if let Err(e) = started {
        tracing::warn!("cannot start the watchdog ({e}): no deadline for this run");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn the_deadline_stops_the_run() {
        let (sender, stops) = mpsc::channel();
        watch(Duration::from_millis(20), move |stop| {
            let _ = sender.send(stop);
        });
        let stop = stops.recv_timeout(Duration::from_secs(5));
        assert_eq!(stop, Ok(Stop::Deadline));
    }
}
