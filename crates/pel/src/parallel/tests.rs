//! Block-STM giving up part-way through a block.

use super::{Fallback, Mode, block_stm};
use crate::{BlockInput, Chain, InMemoryState, PreAccount, sequential, sequential::Scope};
use alloy_consensus::{Header, Signed, TxEnvelope, TxLegacy, transaction::Recovered};
use alloy_primitives::{Address, Signature, TxKind, U256};
use revm::state::AccountInfo;

const TXS: usize = 40;

/// `TXS` plain transfers from as many senders to one receiver, in a London block.
fn transfers() -> (BlockInput, InMemoryState) {
    let receiver = Address::with_last_byte(0xb0);
    let mut state = InMemoryState::default();
    let transactions = (0..TXS)
        .map(|index| {
            let sender = Address::left_padding_from(&(0x1000 + index as u64).to_be_bytes());
            let info = AccountInfo::default().with_balance(U256::from(10u64.pow(18)));
            state.insert_account(
                sender,
                PreAccount {
                    info,
                    storage: Default::default(),
                },
            );
            let tx = TxLegacy {
                chain_id: Some(1),
                nonce: 0,
                gas_price: 10,
                gas_limit: 21_000,
                to: TxKind::Call(receiver),
                value: U256::from(1 + index),
                input: Default::default(),
            };
            let signed = Signed::new_unhashed(tx, Signature::test_signature());
            Recovered::new_unchecked(TxEnvelope::Legacy(signed), sender)
        })
        .collect();
    let header = Header {
        number: 13_000_000,
        timestamp: 1_630_000_000,
        beneficiary: Address::with_last_byte(0xfe),
        gas_limit: 30_000_000,
        base_fee_per_gas: Some(7),
        ..Header::default()
    };
    let block = BlockInput {
        header,
        transactions,
        ommers: Vec::new(),
        withdrawals: None,
    };
    (block, state)
}

#[test]
fn past_the_bound_on_executions_the_rest_runs_in_order_on_what_was_committed() {
    let chain = Chain::mainnet();
    let (block, state) = transfers();
    let sequential = sequential::execute(&chain, &block, &state).unwrap();
    // On one thread Block-STM executes and commits in order, so the bound stops it halfway.
    let bound = TXS / 2;
    let (output, stats) = block_stm(
        &chain,
        &block,
        &state,
        1,
        Fallback::Never,
        Scope::Block,
        bound,
    )
    .unwrap();
    assert_eq!(output, sequential);
    assert_eq!(stats.mode, Mode::Contended);
    assert_eq!(stats.graph, None);
    // Restarting from scratch would have executed `bound` transactions twice.
    assert!(stats.executions >= TXS, "{stats:?}");
    assert!(stats.re_executions < 4, "{stats:?}");
}
