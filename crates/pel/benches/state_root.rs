//! State root of generated states, from a small state to a large one, with leaves (accounts plus
//! storage slots) as the throughput so criterion reports leaves per second.
//!
//! Every account has a balance and nonce; every fourth holds a contract with 16 storage slots,
//! roughly the shape of a rollup's or a test network's state.

use alloy_primitives::{Address, U256, map::HashMap};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pel::{InMemoryState, PreAccount};
use revm::state::AccountInfo;
use std::hint::black_box;

/// The allocator the `pel` binary uses, so that these numbers match `pel bench`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SLOTS_PER_CONTRACT: u64 = 16;

fn generated_state(accounts: u64) -> (InMemoryState, u64) {
    let mut state = InMemoryState::default();
    let mut leaves = 0;
    for i in 0..accounts {
        let mut storage = HashMap::default();
        if i % 4 == 0 {
            for slot in 0..SLOTS_PER_CONTRACT {
                storage.insert(U256::from(slot), U256::from(i + slot + 1));
            }
        }
        leaves += 1 + storage.len() as u64;
        let info = AccountInfo::default()
            .with_balance(U256::from(i + 1))
            .with_nonce(i);
        state.insert_account(
            Address::left_padding_from(&i.to_be_bytes()),
            PreAccount { info, storage },
        );
    }
    (state, leaves)
}

fn state_root(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_root");
    group.sample_size(10);
    for accounts in [1_000, 10_000, 100_000] {
        let (state, leaves) = generated_state(accounts);
        group.throughput(Throughput::Elements(leaves));
        group.bench_function(format!("{accounts}-accounts"), |b| {
            b.iter(|| black_box(state.state_root()))
        });
    }
    group.finish();
}

criterion_group!(benches, state_root);
criterion_main!(benches);
