//! Which contract accounts a transaction needs only the code of.
//!
//! revm loads a whole account (balance, nonce and code) to call into it, so a transaction that
//! calls WETH reads WETH's balance, and every lower deposit or withdrawal, which change that
//! balance, would abort it although it never looked at it: on the mainnet fixtures these were
//! most failed validations of the blocks that run Block-STM (BENCHMARKS.md). The workers'
//! instruction table therefore wraps every instruction through which a transaction can observe
//! the balance or nonce of an account it does not write: BALANCE, SELFBALANCE, CALL and
//! CALLCODE with a value (the caller's balance is checked), CREATE and CREATE2 (the creator's
//! balance and nonce) and SELFDESTRUCT (the balance moved). A contract account that the
//! transaction read but did not observe that way is then recorded as a read of its code alone
//! ([`code_only_reads`]), which validation compares by code hash, provided the transaction
//! left the account as it was or only credited it (a deposit into WETH); such a credit becomes
//! a balance delta, like the beneficiary's fee, which the commit pays on the committed state.

use super::{
    mv_memory::{Location, ReadOrigin, Value},
    vm::{VmDb, WorkerEvm},
};
use crate::StateProvider;
use alloy_primitives::{
    Address, B256, U256,
    map::{AddressMap, AddressSet},
};
use revm::{
    bytecode::opcode,
    context::Context,
    handler::MainnetContext,
    interpreter::{
        InstructionContext, InstructionExecResult,
        instructions::{contract, host},
        interpreter::EthInterpreter,
    },
    primitives::KECCAK_EMPTY,
    state::AccountInfo,
};

type Ictx<'c, 'a, DB> = InstructionContext<'c, MainnetContext<VmDb<'a, DB>>, EthInterpreter>;

/// The stack item `depth` places below the top, if the stack holds it.
fn stack_item<DB: StateProvider>(context: &Ictx<'_, '_, DB>, depth: usize) -> Option<U256> {
    let data = context.interpreter.stack.data();
    data.len()
        .checked_sub(depth + 1)
        .and_then(|at| data.get(at))
        .copied()
}

fn observed<DB: StateProvider>(context: &mut Ictx<'_, '_, DB>, address: Address) {
    let Context {
        journaled_state, ..
    } = &mut *context.host;
    journaled_state.database.observe_balance(address);
}

fn current<DB: StateProvider>(context: &Ictx<'_, '_, DB>) -> Address {
    context.interpreter.input.target_address
}

fn balance<DB: StateProvider>(mut context: Ictx<'_, '_, DB>) -> InstructionExecResult {
    if let Some(word) = stack_item(&context, 0) {
        observed(&mut context, Address::from_word(B256::from(word)));
    }
    host::balance(context)
}

fn selfbalance<DB: StateProvider>(mut context: Ictx<'_, '_, DB>) -> InstructionExecResult {
    let address = current(&context);
    observed(&mut context, address);
    host::selfbalance(context)
}

/// CALL and CALLCODE: gas, address, value, ... from the top.
fn call_with_value<DB: StateProvider, const KIND: u8>(
    mut context: Ictx<'_, '_, DB>,
) -> InstructionExecResult {
    if stack_item(&context, 2).is_some_and(|value| !value.is_zero()) {
        let address = current(&context);
        observed(&mut context, address);
    }
    contract::call::<KIND, _, _>(context)
}

fn create<DB: StateProvider, const IS_CREATE2: bool>(
    mut context: Ictx<'_, '_, DB>,
) -> InstructionExecResult {
    let address = current(&context);
    observed(&mut context, address);
    contract::create::<IS_CREATE2, _, _>(context)
}

fn selfdestruct<DB: StateProvider>(mut context: Ictx<'_, '_, DB>) -> InstructionExecResult {
    let address = current(&context);
    observed(&mut context, address);
    host::selfdestruct(context)
}

/// Puts the observing instructions into a worker's EVM, with the static gas they had.
pub(crate) fn install<DB: StateProvider>(evm: &mut WorkerEvm<'_, DB>) {
    use revm::interpreter::Instruction;
    let wrapped = [
        (opcode::BALANCE, Instruction::new(balance::<DB>)),
        (opcode::SELFBALANCE, Instruction::new(selfbalance::<DB>)),
        (
            opcode::CALL,
            Instruction::new(call_with_value::<DB, { opcode::CALL }>),
        ),
        (
            opcode::CALLCODE,
            Instruction::new(call_with_value::<DB, { opcode::CALLCODE }>),
        ),
        (opcode::CREATE, Instruction::new(create::<DB, false>)),
        (opcode::CREATE2, Instruction::new(create::<DB, true>)),
        (opcode::SELFDESTRUCT, Instruction::new(selfdestruct::<DB>)),
    ];
    for (op, instruction) in wrapped {
        let gas = (evm.instruction.gas_table().get(usize::from(op)).copied()).unwrap_or_default();
        evm.instruction.insert_instruction(op, instruction, gas);
    }
}

/// Turns the reads of contract accounts that the execution did not observe (see the module
/// doc) into reads of their code, and returns those accounts, each with what the execution
/// credited it: the commit sets their balance and nonce as committed, plus the credit. Such an
/// account the execution wrote with only a higher balance (a deposit into WETH) keeps no other
/// dependence on its balance: that write becomes a balance delta. Listed here on the worker, so
/// that the serial commit does not scan every read set for them. Not for the beneficiary,
/// whose reads sum the fees below, nor for an account created, destroyed or given another
/// nonce or code.
pub(crate) fn code_only_reads(
    reads: &mut [(Location, ReadOrigin)],
    accounts_read: &AddressMap<Option<AccountInfo>>,
    observed: &AddressSet,
    writes: &mut [(Location, Value)],
    beneficiary: Address,
) -> Vec<(Address, U256)> {
    let mut code_only = Vec::new();
    for (location, origin) in reads {
        let Location::Account(address) = *location else {
            continue;
        };
        let Some(Some(info)) = accounts_read.get(&address) else {
            continue;
        };
        if address == beneficiary
            || info.code_hash == KECCAK_EMPTY
            || info.code_hash == B256::ZERO
            || observed.contains(&address)
            || (writes.iter()).any(|(written, _)| *written == Location::StorageWipe(address))
        {
            continue;
        }
        let base = match origin {
            ReadOrigin::Base | ReadOrigin::Deltas(_, None) => true,
            ReadOrigin::Version(_) | ReadOrigin::Deltas(_, Some(_)) => false,
            _ => continue,
        };
        let mut credit = U256::ZERO;
        let write = (writes.iter_mut()).find(|(written, _)| *written == Location::Account(address));
        if let Some((_, value)) = write {
            let Value::Account(Some(after)) = value else {
                continue;
            };
            let increase = after.balance.checked_sub(info.balance);
            match increase {
                Some(amount)
                    if after.nonce == info.nonce
                        && after.code_hash == info.code_hash
                        && !amount.is_zero() =>
                {
                    *value = Value::BalanceDelta(amount);
                    credit = amount;
                }
                _ => continue,
            }
        }
        *origin = ReadOrigin::Code {
            code_hash: info.code_hash,
            base,
        };
        code_only.push((address, credit));
    }
    code_only
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::{
        bloom::BloomHasher,
        mv_memory::{MvMemory, Version},
        vm,
    };
    use crate::{Chain, InMemoryState, PreAccount, chain::tx_env};
    use alloy_consensus::{Header, Signed, TxEnvelope, TxLegacy, transaction::Recovered};
    use alloy_primitives::{Bytes, Signature, TxKind};
    use revm::{bytecode::Bytecode, database::State};

    const SENDER: Address = Address::with_last_byte(0x5e);
    const PAYEE: Address = Address::with_last_byte(0xd0);

    /// Runs a call from an EOA into `CONTRACT` holding `code` (balance 0) as transaction 1,
    /// then lets transaction 0 give the contract a balance of 1: whether transaction 1's reads
    /// are still valid.
    fn valid_after_a_lower_balance_change(code: &[u8]) -> bool {
        let mut state = InMemoryState::default();
        let code = Bytecode::new_raw(Bytes::copy_from_slice(code));
        let contract_info = AccountInfo {
            code_hash: code.hash_slow(),
            code: Some(code),
            ..AccountInfo::default()
        };
        state.insert_account(
            CONTRACT,
            PreAccount {
                info: contract_info.clone(),
                storage: Default::default(),
            },
        );
        let rich = AccountInfo::default().with_balance(U256::from(10u64.pow(18)));
        let pre = |info| PreAccount {
            info,
            storage: Default::default(),
        };
        state.insert_account(SENDER, pre(rich));
        let header = Header {
            number: 20_000_000,
            timestamp: 1_720_000_000,
            beneficiary: BENEFICIARY,
            gas_limit: 30_000_000,
            base_fee_per_gas: Some(7),
            excess_blob_gas: Some(0),
            blob_gas_used: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Header::default()
        };
        let env = Chain::mainnet().evm_env(&header);
        let cache = State::builder().with_database_ref(&state).build();
        let base = vm::BaseState::new(&state, &cache);
        let mv = MvMemory::new(2, Address::ZERO, Default::default());
        let db = VmDb::new(&mv, &base, &[], env.cfg_env.spec);
        let mut evm = vm::worker_evm(db, &env.block_env, &env.cfg_env);
        let tx = TxLegacy {
            chain_id: Some(1),
            nonce: 0,
            gas_price: 10,
            gas_limit: 200_000,
            to: TxKind::Call(CONTRACT),
            value: U256::ZERO,
            input: Bytes::new(),
        };
        let signed = Signed::new_unhashed(tx, Signature::test_signature());
        let tx = Recovered::new_unchecked(TxEnvelope::Legacy(signed), SENDER);
        let mut blooms = BloomHasher::default();
        let execution = vm::execute(&mut evm, &mut blooms, 1, tx_env(&tx), BENEFICIARY, None)
            .unwrap_or_else(|_| panic!("nothing below is an estimate"));
        assert!(execution.result.as_ref().is_ok_and(|r| r.is_success()));
        let funded = AccountInfo {
            balance: U256::from(1),
            ..contract_info
        };
        let lower = Version {
            tx: 0,
            incarnation: 0,
        };
        mv.record(
            lower,
            &[],
            &[(Location::Account(CONTRACT), Value::Account(Some(funded)))],
        );
        (execution.reads.iter()).all(|(location, origin)| mv.still_reads(location, 1, origin, &[]))
    }

    fn with_payee(head: &[u8], tail: &[u8]) -> Vec<u8> {
        [head, &[0x73], PAYEE.as_slice(), tail].concat()
    }

    #[test]
    fn a_transaction_that_observes_its_contracts_balance_depends_on_it() {
        // Stores 1 and stops: only the code was needed.
        assert!(valid_after_a_lower_balance_change(&[
            0x60, 1, 0x60, 0, 0x55, 0x00
        ]));
        // SELFBALANCE, and BALANCE of itself (ADDRESS BALANCE), stored.
        assert!(!valid_after_a_lower_balance_change(&[
            0x47, 0x60, 0, 0x55, 0x00
        ]));
        assert!(!valid_after_a_lower_balance_change(&[
            0x30, 0x31, 0x60, 0, 0x55, 0x00
        ]));
        // CALL and CALLCODE of 1 wei to the payee, which fail on a balance of 0; the success
        // flag stored.
        let call = |op| {
            let head = [0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 1];
            with_payee(&head, &[0x5a, op, 0x60, 0, 0x55, 0x00])
        };
        assert!(!valid_after_a_lower_balance_change(&call(opcode::CALL)));
        assert!(!valid_after_a_lower_balance_change(&call(opcode::CALLCODE)));
        // CREATE of an empty contract with 1 wei, which fails on a balance of 0.
        let create = [
            0x60,
            0,
            0x60,
            0,
            0x60,
            1,
            opcode::CREATE,
            0x60,
            0,
            0x55,
            0x00,
        ];
        assert!(!valid_after_a_lower_balance_change(&create));
        // SELFDESTRUCT to the payee: moves a balance of 0, so the contract is not written.
        let selfdestruct = with_payee(&[], &[opcode::SELFDESTRUCT]);
        assert!(!valid_after_a_lower_balance_change(&selfdestruct));
    }

    const CONTRACT: Address = Address::with_last_byte(0xc0);
    const BENEFICIARY: Address = Address::with_last_byte(0xbe);
    const CODE: B256 = B256::repeat_byte(0x11);

    fn contract(balance: u64) -> AccountInfo {
        AccountInfo {
            balance: U256::from(balance),
            code_hash: CODE,
            ..AccountInfo::default()
        }
    }

    fn reduced(
        address: Address,
        info: AccountInfo,
        observed: &[Address],
        writes: &mut [(Location, Value)],
    ) -> (ReadOrigin, Vec<(Address, U256)>) {
        let mut reads = [(Location::Account(address), ReadOrigin::Base)];
        let accounts_read = AddressMap::from_iter([(address, Some(info))]);
        let observed = AddressSet::from_iter(observed.iter().copied());
        let code_only = code_only_reads(&mut reads, &accounts_read, &observed, writes, BENEFICIARY);
        (reads[0].1.clone(), code_only)
    }

    #[test]
    fn a_contract_read_for_its_code_alone_becomes_a_code_read() {
        let code_only = ReadOrigin::Code {
            code_hash: CODE,
            base: true,
        };
        let full = (ReadOrigin::Base, Vec::new());
        assert_eq!(
            reduced(CONTRACT, contract(5), &[], &mut []),
            (code_only.clone(), vec![(CONTRACT, U256::ZERO)])
        );
        // Its balance observed, or the account destroyed or wiped: the whole account stays read.
        assert_eq!(reduced(CONTRACT, contract(5), &[CONTRACT], &mut []), full);
        let mut destroyed = [(Location::Account(CONTRACT), Value::Account(None))];
        assert_eq!(reduced(CONTRACT, contract(5), &[], &mut destroyed), full);
        let mut wipe = [(Location::StorageWipe(CONTRACT), Value::StorageWipe)];
        assert_eq!(reduced(CONTRACT, contract(5), &[], &mut wipe), full);
        // Accounts without code and the beneficiary are never reduced.
        assert_eq!(
            reduced(CONTRACT, AccountInfo::default(), &[], &mut []),
            full
        );
        assert_eq!(reduced(BENEFICIARY, contract(5), &[], &mut []), full);
        // Credited and otherwise unchanged: the write becomes a balance delta.
        let mut credited = [(
            Location::Account(CONTRACT),
            Value::Account(Some(contract(8))),
        )];
        let credit = vec![(CONTRACT, U256::from(3))];
        assert_eq!(
            reduced(CONTRACT, contract(5), &[], &mut credited),
            (code_only, credit)
        );
        assert_eq!(credited[0].1, Value::BalanceDelta(U256::from(3)));
        // Debited, or its nonce changed: the whole account stays read, the write a write.
        let mut debited = [(
            Location::Account(CONTRACT),
            Value::Account(Some(contract(4))),
        )];
        assert_eq!(reduced(CONTRACT, contract(5), &[], &mut debited), full);
        let bumped = AccountInfo {
            nonce: 1,
            ..contract(8)
        };
        let mut nonce = [(Location::Account(CONTRACT), Value::Account(Some(bumped)))];
        assert_eq!(reduced(CONTRACT, contract(5), &[], &mut nonce), full);
    }

    #[test]
    fn a_code_read_stays_valid_while_the_code_beneath_is_the_same() {
        let mv = super::super::mv_memory::MvMemory::new(8, Address::ZERO, Default::default());
        let location = Location::Account(CONTRACT);
        let from_base = ReadOrigin::Code {
            code_hash: CODE,
            base: true,
        };
        assert!(mv.still_reads(&location, 5, &from_base, &[]));
        // A lower transaction changes the balance only: still valid.
        let v1 = Version {
            tx: 1,
            incarnation: 0,
        };
        let balance_changed = [(location, Value::Account(Some(contract(9))))];
        mv.record(v1, &[], &balance_changed);
        assert!(mv.still_reads(&location, 5, &from_base, &[]));
        // While it re-executes, readers above cannot know.
        mv.convert_writes_to_estimates(1, &balance_changed);
        assert!(!mv.still_reads(&location, 5, &from_base, &[]));
        // It destroys the account, or its code differs: invalid.
        let v2 = Version {
            tx: 1,
            incarnation: 1,
        };
        mv.record(v2, &balance_changed, &[(location, Value::Account(None))]);
        assert!(!mv.still_reads(&location, 5, &from_base, &[]));
        let other_code = AccountInfo {
            code_hash: B256::repeat_byte(0x22),
            ..contract(9)
        };
        let v3 = Version {
            tx: 1,
            incarnation: 2,
        };
        mv.record(v3, &[], &[(location, Value::Account(Some(other_code)))]);
        assert!(!mv.still_reads(&location, 5, &from_base, &[]));
        // A code read first served by a lower write is not valid on the base state alone.
        let from_write = ReadOrigin::Code {
            code_hash: CODE,
            base: false,
        };
        assert!(!mv.still_reads(&location, 1, &from_write, &[]));
    }
}
