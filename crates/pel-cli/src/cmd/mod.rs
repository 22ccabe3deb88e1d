//! One module per subcommand.

pub(crate) mod blocktest;
mod conformance;
mod engine_args;
pub(crate) mod exec;
pub(crate) mod statetest;
