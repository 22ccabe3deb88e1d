//! One module per subcommand.

pub(crate) mod bench;
pub(crate) mod blocktest;
mod conformance;
mod engine_args;
pub(crate) mod exec;
pub(crate) mod generate;
pub(crate) mod statetest;
mod workload_arg;
