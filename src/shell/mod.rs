//! The process around the library: the command line and its help, logging, the run's deadline,
//! signals, standard output and exit codes.

pub mod cli;
pub mod deadline;
pub mod help;
pub mod run;
pub mod signals;
