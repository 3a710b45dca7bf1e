//! The `vaultplate` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

/// mimalloc rather than glibc's allocator: a run allocates and frees millions of small strings
/// and nodes (on the parsing threads too), where it is faster and wastes less memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vaultplate::main_with_args(std::env::args_os())
}
