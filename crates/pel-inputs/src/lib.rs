//! Inputs for pel: loaders that turn block fixtures into [`pel::BlockInput`] and
//! [`pel::InMemoryState`], with errors that name the file, the block and the field at fault.

pub mod error;
pub mod ethtests;
mod json;
pub mod mainnet;
pub mod shared;
pub mod synthetic;
pub mod wallet;
pub mod writer;

pub use error::{FixtureError, FixtureErrorKind};
pub use mainnet::{Fixture, find_fixtures, load_fixture};
pub use wallet::Wallet;
pub use writer::write_fixture;
