//! pel: a parallel execution layer for the EVM.
//!
//! A block goes in as a [`BlockInput`] with a [`StateProvider`] (a revm [`revm::DatabaseRef`]);
//! an [`Engine`] executes it under a [`Chain`]'s rules and returns a [`BlockOutput`]: receipts,
//! per-transaction outcomes, gas and the block's state changes. Every engine returns exactly
//! what the [`sequential`] reference returns; [`verify::verify_header`] checks an output against
//! the block header.
//!
//! - [`chain`]: fork schedule and EVM environment from a header.
//! - [`sequential`]: the reference executor.
//! - [`parallel`]: the Block-STM engine.
//! - [`receipts`]: logs bloom and receipts root.
//! - [`state`]: an in-memory state provider.
//! - [`state_root`]: Merkle-Patricia state and storage roots.
//! - [`verify`]: header verification.
//! - [`validation`]: block validity before and after execution, as a node checks it.
//!
//! Call [`warm_up`] once before timing anything.

pub mod block;
pub mod chain;
mod collision;
pub mod engine;
pub mod error;
pub mod output;
pub mod parallel;
mod provider;
pub mod receipts;
pub mod sequential;
pub mod state;
pub mod state_root;
pub mod validation;
pub mod verify;
mod warm_up;

pub use block::BlockInput;
pub use chain::Chain;
pub use engine::Engine;
pub use error::ExecuteError;
pub use output::{BlockOutput, TxOutcome, TxStatus};
pub use provider::StateProvider;
pub use state::{InMemoryState, PreAccount, StateError};
pub use warm_up::warm_up;
