//! The generate pipeline, one stage per module, data flowing one way: [`source`] reads the
//! inputs, [`manifest`] outlines each parsed document ([`scan`] finds its placeholders) and
//! selects the objects, [`manifest::plan`] lists the distinct secrets, a secret reader answers
//! them, [`fill`] computes every new value and [`output`] edits them in and assembles all or
//! nothing. [`generate`] drives the stages; [`problem`] is what any stage reports. [`values`]
//! fills Helm values before helm reads them.

pub mod fill;
pub mod generate;
pub mod manifest;
pub mod output;
pub mod problem;
pub mod scan;
pub mod source;
pub mod values;

#[cfg(test)]
mod tests;
