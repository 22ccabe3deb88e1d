//! One module per subcommand.

mod conformance;
pub(crate) mod exec;
pub(crate) mod statetest;
