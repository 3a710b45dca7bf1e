//! The process around the library: the command line and its help, logging, the run's deadline,
//! signals, standard output and exit codes; `doctor`, the check of a sidecar's set-up.

pub(crate) mod cli;
pub(crate) mod deadline;
pub(crate) mod doctor;
pub(crate) mod help;
pub(crate) mod run;
pub(crate) mod signals;
