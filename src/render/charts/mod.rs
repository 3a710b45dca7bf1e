//! Chart dependencies: a chart whose `charts/` folder lacks what its `Chart.yaml` names gets
//! them in a private copy ([`deps`]), from the repository (`file://`) or from remote
//! repositories with the operator's credentials ([`repos`]), through the chart cache shared by
//! every render of the sidecar ([`cache`]).

mod cache;
pub(super) mod deps;
mod repos;
