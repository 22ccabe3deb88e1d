//! One module per subcommand.

pub(crate) mod blocktest;
mod conformance;
pub(crate) mod exec;
pub(crate) mod statetest;
