//! The reference executor: one transaction after another, exactly as reth executes a block.
//!
//! Built on `alloy-evm`'s Ethereum block executor (system calls, rewards, withdrawals, the DAO
//! change, receipts) over one revm instance and one [`State`] cache for the whole block, with
//! no per-transaction copy of state. Every other engine is checked against its output; its cost
//! over a bare revm loop (receipts, blooms, bundle state) is measured in BENCHMARKS.md.

use crate::{
    BlockInput, BlockOutput, Chain, ExecuteError, StateProvider, TxOutcome,
    collision::StorageCollisions,
};
use alloy_consensus::{ReceiptEnvelope, TxEnvelope};
use alloy_evm::{
    EthEvm, EvmEnv,
    block::BlockExecutor,
    eth::{
        EthBlockExecutionCtx, EthBlockExecutor, EthEvmBuilder,
        receipt_builder::{AlloyReceiptBuilder, ReceiptBuilder},
    },
    precompiles::PrecompilesMap,
};
use revm::database::{State, WrapDatabaseRef, states::bundle_state::BundleRetention};
use std::{borrow::Cow, fmt::Debug};

/// Executes `block` on top of the state `db` serves, transaction by transaction.
pub fn execute<DB>(chain: &Chain, block: &BlockInput, db: DB) -> Result<BlockOutput, ExecuteError>
where
    DB: StateProvider + Debug,
    DB::Error: Send + Sync + 'static,
{
    run(
        chain,
        block,
        db,
        Scope::Block,
        AlloyReceiptBuilder::default(),
    )
}

/// Executes only `block`'s transactions in its header's environment: no system calls before
/// them, no rewards or withdrawals after. This is what a state test (`pel statetest`) checks.
pub fn execute_transactions<DB>(
    chain: &Chain,
    block: &BlockInput,
    db: DB,
) -> Result<BlockOutput, ExecuteError>
where
    DB: StateProvider + Debug,
    DB::Error: Send + Sync + 'static,
{
    run(
        chain,
        block,
        db,
        Scope::Transactions,
        AlloyReceiptBuilder::default(),
    )
}

/// How much of a block an execution covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// System calls, transactions, rewards and withdrawals: what a node does.
    Block,
    /// The transactions alone.
    Transactions,
}

/// Executes `block` to the extent `scope` says, building receipts with `receipt_builder`:
/// alloy's for the sequential engine, the parallel engine's own when it runs a block in order.
pub(crate) fn run<DB, R>(
    chain: &Chain,
    block: &BlockInput,
    db: DB,
    scope: Scope,
    receipt_builder: R,
) -> Result<BlockOutput, ExecuteError>
where
    DB: StateProvider + Debug,
    DB::Error: Send + Sync + 'static,
    R: ReceiptBuilder<Transaction = TxEnvelope, Receipt = ReceiptEnvelope>,
{
    let mut state = State::builder()
        .with_database_ref(db)
        .with_bundle_update()
        .build();
    let (receipts, transactions, gas_used, blob_gas_used) = {
        let mut executor = start(
            chain,
            block,
            &mut state,
            chain.evm_env(&block.header),
            receipt_builder,
            scope,
        )?;
        let mut outcomes = Vec::with_capacity(block.transactions.len());
        execute_in_order(&mut executor, block, 0, &mut outcomes)?;
        let (receipts, gas_used, blob_gas_used) = finish(executor, scope)?;
        (receipts, outcomes, gas_used, blob_gas_used)
    };
    state.merge_transitions(BundleRetention::PlainState);
    Ok(BlockOutput {
        receipts,
        transactions,
        gas_used,
        blob_gas_used,
        state: state.take_bundle(),
    })
}

/// `alloy-evm`'s Ethereum block executor over revm's `State` of `DB`, as both engines use it
/// (the parallel engine with its own receipt builder, `R`).
pub(crate) type Executor<'a, DB, R = AlloyReceiptBuilder> = EthBlockExecutor<
    'a,
    EthEvm<&'a mut State<WrapDatabaseRef<DB>>, StorageCollisions, PrecompilesMap>,
    &'a Chain,
    R,
>;

/// The block executor over `state`, with the system calls before the transactions applied
/// when `scope` covers the whole block. Both engines start their blocks here.
pub(crate) fn start<'a, DB, R>(
    chain: &'a Chain,
    block: &'a BlockInput,
    state: &'a mut State<WrapDatabaseRef<DB>>,
    evm_env: EvmEnv,
    receipt_builder: R,
    scope: Scope,
) -> Result<Executor<'a, DB, R>, ExecuteError>
where
    DB: StateProvider + Debug,
    DB::Error: Send + Sync + 'static,
    R: ReceiptBuilder<Transaction = TxEnvelope, Receipt = ReceiptEnvelope>,
{
    // EIP-7610's storage check costs an inspected interpreter loop: only where it can matter.
    let storage_collisions = state.database.0.may_hold_storage_only_accounts();
    let evm = EthEvmBuilder::new(state, evm_env)
        .inspector(StorageCollisions)
        .set_inspect(storage_collisions)
        .build();
    let mut executor = EthBlockExecutor::new(evm, execution_ctx(block), chain, receipt_builder);
    if scope == Scope::Block {
        executor
            .apply_pre_execution_changes()
            .map_err(ExecuteError::PreExecution)?;
    }
    Ok(executor)
}

/// Executes `block`'s transactions from index `from` on, one after another, pushing how each
/// ended onto `outcomes`. The sequential engine runs them all; the parallel engine runs those
/// it had not committed when Block-STM gave up.
pub(crate) fn execute_in_order<DB, R>(
    executor: &mut Executor<'_, DB, R>,
    block: &BlockInput,
    from: usize,
    outcomes: &mut Vec<TxOutcome>,
) -> Result<(), ExecuteError>
where
    DB: StateProvider + Debug,
    DB::Error: Send + Sync + 'static,
    R: ReceiptBuilder<Transaction = TxEnvelope, Receipt = ReceiptEnvelope>,
{
    for (index, tx) in block.transactions.iter().enumerate().skip(from) {
        executor
            .execute_transaction_with_result_closure(tx, |result| {
                outcomes.push(TxOutcome::from(&result.result.result));
            })
            .map_err(|source| ExecuteError::Transaction {
                index,
                hash: *tx.tx_hash(),
                source,
            })?;
    }
    Ok(())
}

/// Ends the block as `scope` says: rewards, withdrawals and end-of-block system calls for a
/// whole block, nothing more for its transactions alone. Returns the receipts, the gas used and
/// the blob gas used. Both engines end their blocks here.
pub(crate) fn finish<'a, 'c, E, R>(
    executor: EthBlockExecutor<'a, E, &'c Chain, R>,
    scope: Scope,
) -> Result<(Vec<ReceiptEnvelope>, u64, u64), ExecuteError>
where
    R: ReceiptBuilder<Receipt = ReceiptEnvelope>,
    EthBlockExecutor<'a, E, &'c Chain, R>: BlockExecutor<Receipt = ReceiptEnvelope>,
{
    match scope {
        Scope::Block => {
            let (_, result) = executor.finish().map_err(ExecuteError::PostExecution)?;
            Ok((result.receipts, result.gas_used, result.blob_gas_used))
        }
        Scope::Transactions => Ok((
            executor.receipts,
            executor.cumulative_tx_gas_used,
            executor.blob_gas_used,
        )),
    }
}

/// What `alloy-evm`'s executor needs from the block besides the header.
pub(crate) fn execution_ctx(block: &BlockInput) -> EthBlockExecutionCtx<'_> {
    EthBlockExecutionCtx {
        parent_hash: block.header.parent_hash,
        parent_beacon_block_root: block.header.parent_beacon_block_root,
        ommers: &block.ommers,
        withdrawals: block.withdrawals.as_deref().map(Cow::Borrowed),
        extra_data: block.header.extra_data.clone(),
        tx_count_hint: Some(block.transactions.len()),
        slot_number: None,
    }
}

#[cfg(test)]
mod tests;
