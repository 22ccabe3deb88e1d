//! EIP-7610: a contract creation whose address already has storage fails as a collision, as
//! one whose address has code or a nonce does (EIP-684).
//!
//! revm checks only code and nonce. [`StorageCollisions`] is an inspector whose `create` hook
//! runs in front of revm's own creation frame and fails the creation the way revm fails a
//! collision: the caller's nonce is bumped, the address is warm, and all gas passed to the
//! creation is consumed. Both engines install it; it is switched on (the EVM's `inspect` flag)
//! only when the state provider says storage-only accounts may exist, so every other block
//! runs revm's uninspected interpreter loop.

use crate::{StateProvider, provider::holds_storage};
use alloy_primitives::Address;
use revm::{
    Database, Inspector,
    context::{ContextError, ContextTr, JournalTr},
    context_interface::journaled_state::account::JournaledAccountTr,
    database::{State, WrapDatabaseRef},
    database_interface::bal::EvmDatabaseError,
    interpreter::{CreateInputs, CreateOutcome, Gas, InstructionResult, InterpreterResult},
    primitives::{KECCAK_EMPTY, constants::CALL_STACK_LIMIT},
};

/// A database that can say whether an account has storage at the point of the block the
/// current transaction starts from.
pub(crate) trait StorageOracle: Database {
    /// Whether `address` has storage. Within a block, only the pre-state gives an account
    /// storage without code and nonce (storage is written by code, and code deployed from
    /// Spurious Dragon on comes with a nonce; before it, a creation address is never
    /// reached twice), and only the account's removal takes it away.
    fn has_storage(&mut self, address: Address) -> Result<bool, Self::Error>;
}

impl<T: StorageOracle> StorageOracle for &mut T {
    fn has_storage(&mut self, address: Address) -> Result<bool, Self::Error> {
        (**self).has_storage(address)
    }
}

impl<DB: StateProvider> StorageOracle for State<WrapDatabaseRef<DB>> {
    fn has_storage(&mut self, address: Address) -> Result<bool, Self::Error> {
        match self.cache.accounts.get(&address) {
            // Created, destroyed or missing in this block: what the cache holds is all there is.
            Some(cached) if cached.status.is_storage_known() => Ok(cached
                .account
                .as_ref()
                .is_some_and(|account| holds_storage(account.storage.values()))),
            _ => (self.database.0)
                .has_storage(address)
                .map_err(EvmDatabaseError::Database),
        }
    }
}

/// The inspector that adds EIP-7610's storage check to every creation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StorageCollisions;

impl<CTX> Inspector<CTX> for StorageCollisions
where
    CTX: ContextTr<Db: StorageOracle>,
{
    fn create(&mut self, context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        match collides_on_storage(context, inputs) {
            Ok(false) => None,
            Ok(true) => Some(collision(inputs)),
            Err(error) => {
                // revm reports a database error found outside an instruction this way; the
                // frame that receives the outcome returns the error.
                *context.error() = Err(ContextError::Db(error));
                Some(collision(inputs))
            }
        }
    }
}

/// Whether the creation `inputs` describes collides only because its address has storage;
/// if so, bumps the caller's nonce as revm does before it finds a collision. Anything revm
/// would reject first (depth, balance, nonce overflow) or reject anyway (code or nonce at the
/// address) is left to revm.
fn collides_on_storage<CTX>(
    context: &mut CTX,
    inputs: &CreateInputs,
) -> Result<bool, <CTX::Db as Database>::Error>
where
    CTX: ContextTr<Db: StorageOracle>,
{
    let journal = context.journal_mut();
    if journal.depth() > CALL_STACK_LIMIT as usize {
        return Ok(false);
    }
    let caller = journal.load_account(inputs.caller())?.data;
    let nonce = caller.info.nonce;
    if caller.info.balance < inputs.value() || nonce == u64::MAX {
        return Ok(false);
    }
    let address = inputs.created_address(nonce);
    let target = &journal.load_account(address)?.data.info;
    if target.code_hash != KECCAK_EMPTY || target.nonce != 0 {
        return Ok(false);
    }
    if !journal.db_mut().has_storage(address)? {
        return Ok(false);
    }
    journal.load_account_mut(inputs.caller())?.data.bump_nonce();
    Ok(true)
}

/// The outcome revm gives a creation that collides.
fn collision(inputs: &CreateInputs) -> CreateOutcome {
    CreateOutcome {
        result: InterpreterResult {
            result: InstructionResult::CreateCollision,
            gas: Gas::new_with_regular_gas_and_reservoir(inputs.gas_limit(), inputs.reservoir()),
            output: Default::default(),
        },
        address: None,
        charged_create_state_gas: inputs.charged_create_state_gas(),
    }
}
