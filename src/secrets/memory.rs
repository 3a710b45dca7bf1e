//! A [`SecretReader`] over secrets held in memory, for tests of the engine without a server.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{ReadError, SecretAnswer, SecretReader};
use crate::placeholder::secret_ref::SecretRef;

/// Secrets by path (every version and KV version reads the same map), and a log of reads.
#[derive(Debug, Default)]
pub(crate) struct MemorySecrets {
    secrets: HashMap<String, Map<String, Value>>,
    answers: HashMap<SecretRef, SecretAnswer>,
    /// Every reference asked for, in order, each time it was asked for.
    pub(crate) reads: Vec<SecretRef>,
}

impl MemorySecrets {
    /// Adds the secret at `path` with the keys and values of `data` (a JSON object).
    pub(crate) fn with(mut self, path: &str, data: Value) -> Self {
        let Value::Object(map) = data else {
            panic!("a secret is a JSON object")
        };
        self.secrets.insert(path.to_owned(), map);
        self
    }
}

impl SecretReader for MemorySecrets {
    fn read(&mut self, refs: &[SecretRef]) -> Result<(), Arc<ReadError>> {
        for secret in refs {
            if self.answers.contains_key(secret) {
                continue;
            }
            self.reads.push(secret.clone());
            let answer = self.secrets.get(&secret.path).cloned();
            self.answers.insert(secret.clone(), Ok(answer));
        }
        Ok(())
    }

    fn answers(&self) -> &HashMap<SecretRef, SecretAnswer> {
        &self.answers
    }
}
