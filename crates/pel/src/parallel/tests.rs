//! Block-STM giving up part-way through a block, and the beneficiary's fees paid at once.

use super::{Fallback, Mode, block_stm};
use crate::{BlockInput, Chain, InMemoryState, PreAccount, sequential, sequential::Scope};
use alloy_consensus::{Header, Signed, TxEnvelope, TxLegacy, transaction::Recovered};
use alloy_primitives::{Address, Signature, TxKind, U256};
use revm::state::AccountInfo;

const TXS: usize = 40;

const BENEFICIARY: Address = Address::with_last_byte(0xfe);

/// One plain transfer per `(recipient, gas price)`, each from its own sender, in a London block
/// (base fee 7, so a gas price of 7 pays the beneficiary nothing).
fn transfers_to(transfers: &[(Address, u128)]) -> (BlockInput, InMemoryState) {
    let mut state = InMemoryState::default();
    let transactions = (transfers.iter().enumerate())
        .map(|(index, &(to, gas_price))| {
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
                gas_price,
                gas_limit: 21_000,
                to: TxKind::Call(to),
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
        beneficiary: BENEFICIARY,
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

/// `TXS` plain transfers from as many senders to one receiver, each paying a fee.
fn transfers() -> (BlockInput, InMemoryState) {
    let receiver = Address::with_last_byte(0xb0);
    transfers_to(&[(receiver, 10); TXS])
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

#[test]
fn fees_summed_for_the_beneficiary_match_paying_them_one_by_one() {
    let chain = Chain::mainnet();
    let receiver = Address::with_last_byte(0xb0);
    // Fees, then a transfer to the beneficiary (which reads and writes it), more fees, a
    // transfer without a fee, more fees.
    let mut plan = vec![(receiver, 10); 12];
    plan.push((BENEFICIARY, 10));
    plan.extend([(receiver, 10); 12]);
    plan.push((receiver, 7));
    plan.extend([(receiver, 12); 12]);
    // The beneficiary missing, existing and empty (a first fee of zero deletes it), and
    // existing with a balance.
    for (before, first_price) in [(None, 10), (Some(0), 7), (Some(0), 10), (Some(5), 7)] {
        let mut plan = plan.clone();
        if let Some(first) = plan.first_mut() {
            first.1 = first_price;
        }
        let (block, mut state) = transfers_to(&plan);
        if let Some(balance) = before {
            let info = AccountInfo::default().with_balance(U256::from(balance));
            let storage = Default::default();
            state.insert_account(BENEFICIARY, PreAccount { info, storage });
        }
        let sequential = sequential::execute(&chain, &block, &state).unwrap();
        for threads in [1, 2, 4] {
            let (output, _) = block_stm(
                &chain,
                &block,
                &state,
                threads,
                Fallback::Never,
                Scope::Block,
                usize::MAX,
            )
            .unwrap();
            assert_eq!(output, sequential, "{before:?} {first_price} {threads}");
        }
    }
}
