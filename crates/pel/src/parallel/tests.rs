//! Block-STM giving up part-way through a block, and the beneficiary's fees paid at once.

use super::{
    DebitRule, Fallback, Mode, ParallelStats, Plan, Recipients, Survey, Unprofitable, block_stm,
    fallback::chains, test_txs::signed,
};
use crate::{
    BlockInput, BlockOutput, Chain, InMemoryState, PreAccount, sequential, sequential::Scope,
};
use alloy_consensus::{Header, TxEnvelope, TxLegacy, transaction::Recovered};
use alloy_primitives::{Address, TxKind, U256};
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
            fund(&mut state, sender);
            transfer(sender, to, 1 + index as u64, gas_price, 0)
        })
        .collect();
    (london_block(transactions), state)
}

/// Gives `account` one ether.
fn fund(state: &mut InMemoryState, account: Address) {
    let info = AccountInfo::default().with_balance(U256::from(10u64.pow(18)));
    let storage = Default::default();
    state.insert_account(account, PreAccount { info, storage });
}

/// A legacy transfer of `value` wei, the sender's first transaction, with `input_len` zero
/// bytes of calldata.
fn transfer(
    sender: Address,
    to: Address,
    value: u64,
    gas_price: u128,
    input_len: usize,
) -> Recovered<TxEnvelope> {
    signed(sender, transfer_tx(to, value, gas_price, input_len))
}

/// The unsigned [`transfer`], with the gas it takes when `to` has no code.
fn transfer_tx(to: Address, value: u64, gas_price: u128, input_len: usize) -> TxLegacy {
    TxLegacy {
        chain_id: Some(1),
        nonce: 0,
        gas_price,
        gas_limit: 21_000 + 4 * input_len as u64,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: vec![0; input_len].into(),
    }
}

fn london_block(transactions: Vec<Recovered<TxEnvelope>>) -> BlockInput {
    let header = Header {
        number: 13_000_000,
        timestamp: 1_630_000_000,
        beneficiary: BENEFICIARY,
        gas_limit: 30_000_000,
        base_fee_per_gas: Some(7),
        ..Header::default()
    };
    BlockInput {
        header,
        transactions,
        ommers: Vec::new(),
        withdrawals: None,
    }
}

/// What Block-STM forced on `threads` threads, without a bound on executions, returns.
fn forced(chain: &Chain, block: &BlockInput, state: &InMemoryState, threads: usize) -> BlockOutput {
    forced_with_stats(chain, block, state, threads, usize::MAX).0
}

/// Block-STM forced on `threads` threads with a bound on executions, and its statistics.
fn forced_with_stats(
    chain: &Chain,
    block: &BlockInput,
    state: &InMemoryState,
    threads: usize,
    bound: usize,
) -> (BlockOutput, ParallelStats) {
    let rule = DebitRule::new(chain, &block.header);
    let survey = Survey::of::<InMemoryState>(block, &rule, None);
    let plan = Plan {
        threads,
        fallback: Fallback::Never,
        max_executions: bound,
        sender_hints: &survey.sender_hints,
        debits: survey.debits,
    };
    block_stm(chain, block, state, plan, Scope::Block).unwrap()
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
    let (output, stats) = forced_with_stats(&chain, &block, &state, 1, bound);
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
            let output = forced(&chain, &block, &state, threads);
            assert_eq!(output, sequential, "{before:?} {first_price} {threads}");
        }
    }
}

#[test]
fn a_transaction_started_early_that_needs_a_lower_ones_transfer_runs_again() {
    let chain = Chain::mainnet();
    // Outside the precompiles' range, so that transfers to it are lazy and do not conflict.
    let receiver = Address::repeat_byte(0xb0);
    let (mut block, mut state) = transfers_to(&[(receiver, 10); 200]);
    // Transaction 190, the one with the most calldata, starts before the others; its sender
    // has nothing until transaction 150 pays it, so that early execution fails.
    let poor = Address::with_last_byte(0xa1);
    let funder = Address::with_last_byte(0xa2);
    fund(&mut state, funder);
    let paid = transfer(funder, poor, 10u64.pow(17), 10, 0);
    let heavy = transfer(poor, receiver, 1, 10, 4_096);
    for (index, tx) in [(150, paid), (190, heavy)] {
        if let Some(slot) = block.transactions.get_mut(index) {
            *slot = tx;
        }
    }
    assert_eq!(super::hints::early_transactions(&block), vec![190]);
    let sequential = sequential::execute(&chain, &block, &state).unwrap();
    for threads in [2, 4] {
        for _ in 0..5 {
            let output = forced(&chain, &block, &state, threads);
            assert_eq!(output, sequential, "{threads} threads");
        }
    }
}

#[test]
fn transfers_with_calldata_into_an_account_without_code_do_not_depend_on_each_other() {
    let chain = Chain::mainnet();
    // An exchange's deposit address, and a contract that counts its calls in slot 0.
    let deposits = Address::repeat_byte(0xd0);
    let counter = Address::repeat_byte(0xc0);
    let (mut block, mut state) = transfers_to(&[(deposits, 10); TXS]);
    let code = revm::bytecode::Bytecode::new_raw(
        // PUSH1 0 SLOAD PUSH1 1 ADD PUSH1 0 SSTORE STOP
        vec![0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00].into(),
    );
    let info = AccountInfo::default().with_code(code);
    let storage = Default::default();
    state.insert_account(counter, PreAccount { info, storage });
    for (index, tx) in block.transactions.iter_mut().enumerate() {
        let sender = tx.signer();
        let to = if index % 4 == 3 { counter } else { deposits };
        let mut call = transfer_tx(to, 1 + index as u64, 10, 1 + index % 3);
        call.gas_limit = 100_000;
        *tx = signed(sender, call);
    }
    let sequential = sequential::execute(&chain, &block, &state).unwrap();
    // In order on one thread, the reads show the dependencies: the deposits have none (their
    // recipient is read lazily), the calls of the counter each depend on the one before.
    let (output, stats) = forced_with_stats(&chain, &block, &state, 1, usize::MAX);
    assert_eq!(output, sequential);
    let graph = stats.graph.unwrap_or_default();
    for (index, dependencies) in graph.dependencies.iter().enumerate() {
        let expected = match index {
            7.. if index % 4 == 3 => vec![index - 4],
            _ => vec![],
        };
        assert_eq!(*dependencies, expected, "transaction {index}");
    }
    assert_eq!(graph.dependencies.len(), TXS);
    for threads in [2, 4] {
        let (output, stats) = forced_with_stats(&chain, &block, &state, threads, usize::MAX);
        assert_eq!(output, sequential);
        // The workers count their executions in batches: none is lost.
        assert!(stats.executions >= TXS, "{stats:?}");
    }
}

/// A payout batch of `TXS` plain transfers from one sender, every third into a contract whose
/// code spends 5 gas (so the sender pays more than predicted) when `into_contracts`.
fn payout_batch(into_contracts: bool) -> (BlockInput, InMemoryState) {
    let payer = Address::repeat_byte(0x9a);
    let contract = Address::repeat_byte(0xc0);
    let mut state = InMemoryState::default();
    fund(&mut state, payer);
    // PUSH1 0, POP, STOP.
    let code = revm::bytecode::Bytecode::new_raw(vec![0x60, 0x00, 0x50, 0x00].into());
    let info = AccountInfo::default().with_code(code);
    state.insert_account(
        contract,
        PreAccount {
            info,
            storage: Default::default(),
        },
    );
    let transactions = (0..TXS)
        .map(|nth| {
            let mut payee = [0x77; 20];
            payee[19] = nth as u8;
            let to = match into_contracts && nth % 3 == 2 {
                true => contract,
                false => Address::from(payee),
            };
            let mut tx = transfer_tx(to, 1 + nth as u64, 10, 0);
            tx.nonce = nth as u64;
            tx.gas_limit = 30_000;
            signed(payer, tx)
        })
        .collect();
    (london_block(transactions), state)
}

#[test]
fn a_payout_batchs_plain_transfers_do_not_wait_on_each_other_and_its_calls_are_right() {
    let chain = Chain::mainnet();
    let (block, state) = payout_batch(false);
    let sequential = sequential::execute(&chain, &block, &state).unwrap();
    for threads in [1, 2, 4] {
        let (output, stats) = forced_with_stats(&chain, &block, &state, threads, usize::MAX);
        assert_eq!(output, sequential);
        assert_eq!(stats.mode, Mode::Parallel);
        // Each reads the sender beneath the debits predicted below it: nobody's write.
        let graph = stats.graph.unwrap_or_default();
        assert!(graph.dependencies.iter().all(Vec::is_empty), "{graph:?}");
    }
    // Into contracts the sender pays more than predicted: those write it whole, and the
    // transfers above read it from them.
    let (block, state) = payout_batch(true);
    let sequential = sequential::execute(&chain, &block, &state).unwrap();
    for threads in [1, 2, 4] {
        let (output, stats) = forced_with_stats(&chain, &block, &state, threads, usize::MAX);
        assert_eq!(output, sequential);
        let graph = stats.graph.unwrap_or_default();
        let beneath = |tx: usize| (tx >= 3).then(|| vec![(tx - 3) / 3 * 3 + 2]);
        for (tx, dependencies) in graph.dependencies.iter().enumerate() {
            assert_eq!(
                Some(dependencies.clone()).filter(|d| !d.is_empty()),
                beneath(tx)
            );
        }
    }
}

#[test]
fn each_transaction_is_hinted_at_its_senders_last_one_without_a_predicted_debit() {
    let receiver = Address::repeat_byte(0xb0);
    // Into an address of the precompiles' range: never read lazily, so no debit is predicted.
    let precompile = Address::with_last_byte(0x80);
    let sends = [
        (1, receiver),
        (2, receiver),
        (1, precompile),
        (1, receiver),
        (3, receiver),
    ];
    let transactions = (sends.iter())
        .chain(&[(1, receiver)])
        .map(|&(sender, to)| transfer(Address::with_last_byte(sender), to, 5, 10, 0))
        .collect();
    let block = london_block(transactions);
    let chain = Chain::mainnet();
    let rule = DebitRule::new(&chain, &block.header);
    let survey = Survey::of::<InMemoryState>(&block, &rule, None);
    assert_eq!(
        survey.sender_hints,
        [None, None, None, Some(2), None, Some(2)]
    );
    // The value and 21,000 gas at the gas price of 10.
    let debit = Some(U256::from(5 + 21_000 * 10));
    let predicted: Vec<_> = (0..6).map(|tx| survey.debits.predicted(tx)).collect();
    assert_eq!(predicted, [debit, debit, None, debit, debit, debit]);
    // Judged, these six transfers are too little work: no hints then.
    let state = InMemoryState::default();
    let judged = Survey::of(
        &block,
        &rule,
        Some(&Recipients::new(&Chain::mainnet(), &block, &state)),
    );
    assert_eq!(judged.unprofitable, Some(Unprofitable::Small));
    assert!(judged.sender_hints.is_empty());
}

#[test]
fn the_survey_stops_where_one_chain_holds_most_of_the_block() {
    let one = Address::with_last_byte(1);
    let senders = std::iter::repeat_n(one, 10).chain((2..=5).map(Address::with_last_byte));
    let transactions = (senders.enumerate())
        .map(|(nth, sender)| transfer(sender, Address::with_last_byte(0x80 + nth as u8), 1, 10, 0))
        .collect();
    let block = london_block(transactions);
    // Judged: from its ninth transaction on, the sender's chain holds 9 of the 14 transactions
    // and as large a share of their gas, which no later transaction can undo.
    let state = InMemoryState::default();
    let recipients = Recipients::new(&Chain::mainnet(), &block, &state);
    let rule = DebitRule::new(&Chain::mainnet(), &block.header);
    let (hints, _, chained) = chains(&block, &rule, Some((14 * 21_000, &recipients)));
    assert!(chained);
    assert_eq!(hints.len(), 9);
    // Not judged: every transaction's hint, and no verdict.
    let (hints, _, chained) = chains::<InMemoryState>(&block, &rule, None);
    assert!(!chained);
    assert_eq!(hints.len(), 14);
    assert_eq!(&hints[8..11], [Some(7), Some(8), None]);
}

#[test]
fn the_judgement_ends_only_where_no_chain_can_hold_most_of_the_block() {
    let one = Address::with_last_byte(1);
    let block_of = |distinct: u8, chained: usize| {
        let senders = (2..2 + distinct)
            .map(Address::with_last_byte)
            .chain(std::iter::repeat_n(one, chained));
        let transactions = (senders.enumerate())
            .map(|(nth, sender)| {
                transfer(sender, Address::with_last_byte(0x80 + nth as u8), 1, 10, 0)
            })
            .collect();
        london_block(transactions)
    };
    let state = InMemoryState::default();
    let chain = Chain::mainnet();
    let judge = |block: &BlockInput| {
        let recipients = Recipients::new(&chain, block, &state);
        let rule = DebitRule::new(&chain, &block.header);
        let (hints, _, chained) = chains(block, &rule, Some((10 * 21_000, &recipients)));
        (hints, chained)
    };
    // A chain that forms at the block's very end: 7 of 10 is more than 60%.
    let block = block_of(3, 7);
    let (hints, chained) = judge(&block);
    assert!(chained);
    assert_eq!(hints.len(), 10);
    // 6 of 10 is not; the judgement ends early, and every hint is still there.
    let block = block_of(4, 6);
    let (hints, chained) = judge(&block);
    assert!(!chained);
    assert_eq!(
        hints,
        [
            None,
            None,
            None,
            None,
            None,
            Some(4),
            Some(5),
            Some(6),
            Some(7),
            Some(8)
        ]
    );
    // Through a recipient: plain transfers from ten senders into one account (a precompile's
    // address, which is never read lazily).
    let block = into(one, 1);
    let (hints, chained) = judge(&block);
    assert!(chained);
    assert!(hints.iter().all(Option::is_none));
}

/// Ten plain transfers of `value` wei from as many senders into `recipient`.
fn into(recipient: Address, value: u64) -> BlockInput {
    let transactions = (0..10)
        .map(|nth| transfer(Address::with_last_byte(0x10 + nth), recipient, value, 10, 0))
        .collect();
    london_block(transactions)
}

#[test]
fn transfers_into_one_account_are_a_chain_only_if_it_has_code_or_they_are_read_in_full() {
    let (exchange, contract) = (Address::repeat_byte(0xd0), Address::repeat_byte(0xc0));
    let mut state = InMemoryState::default();
    fund(&mut state, exchange);
    let code = revm::bytecode::Bytecode::new_raw(vec![0x00].into());
    let info = AccountInfo::default().with_code(code);
    let storage = Default::default();
    state.insert_account(contract, PreAccount { info, storage });
    let chain = Chain::mainnet();
    let chained = |block: &BlockInput| {
        let recipients = Recipients::new(&chain, block, &state);
        let rule = DebitRule::new(&chain, &block.header);
        chains(block, &rule, Some((10 * 21_000, &recipients))).2
    };
    // Deposits into an account without code are balance deltas: no chain, whether it exists
    // or not.
    assert!(!chained(&into(exchange, 1)));
    assert!(!chained(&into(Address::repeat_byte(0xe0), 1)));
    // Into a contract, whose code runs on each, or without value (no delta, so read in
    // full), they are one.
    assert!(chained(&into(contract, 1)));
    assert!(chained(&into(exchange, 0)));
    // So they are before Spurious Dragon, where nothing is read lazily.
    let mut block = into(exchange, 1);
    block.header.number = 2_000_000;
    block.header.timestamp = 1_470_000_000;
    assert!(chained(&block));
}
