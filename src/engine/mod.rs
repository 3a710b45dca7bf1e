//! The generate pipeline, one stage per module, data flowing one way: [`source`] reads the
//! inputs, [`manifest`] outlines each parsed document ([`scan`] finds its placeholders, kept
//! packed in [`sites`]) and selects the objects, [`manifest::plan`] lists the distinct secrets, a secret reader answers
//! them, [`fill`] computes every new value and [`output`] edits them in and assembles all or
//! nothing. [`generate`] drives the stages; [`problem`] is what any stage reports. [`values`]
//! fills Helm values before helm reads them
//! (with [`disguise`]d stand-ins for the `secretsOnly` check of the rendered chart).

pub(crate) mod check;
pub(crate) mod disguise;
pub(crate) mod fill;
pub(crate) mod generate;
pub(crate) mod manifest;
pub(crate) mod mode;
pub(crate) mod output;
pub(crate) mod problem;
pub(crate) mod redact;
pub(crate) mod scan;
pub(crate) mod sites;
pub(crate) mod source;
pub(crate) mod templates;
pub(crate) mod values;

#[cfg(test)]
mod tests;
