//! The Kubernetes JSONPath subset used by the `jsonPath` modifier.
//!
//! OWNER: helper A.
