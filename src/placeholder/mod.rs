//! What a manifest asks for: the placeholder grammar, the modifiers a placeholder applies
//! (with the Kubernetes JSONPath of `jsonPath`), and the rules a secret path must follow. Pure
//! text processing: nothing here reads a file or talks to Vault.

mod grammar;
pub mod jsonpath;
pub mod modifier;
pub mod secret_path;
pub mod secret_ref;

pub use grammar::{Mode, ParseError, Placeholder, Reference, Segment, parse};
