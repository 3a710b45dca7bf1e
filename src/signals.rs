//! SIGTERM and SIGINT: Argo CD sends SIGTERM to the plugin's process group when its exec
//! timeout expires. The run then stops its children and exits promptly with nothing on stdout.

/// Calls `stop` with the signal's name when the process receives SIGTERM or SIGINT.
pub fn on_termination(stop: impl FnOnce(&'static str) + Send + 'static) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            stop(name);
        });
    });
}
