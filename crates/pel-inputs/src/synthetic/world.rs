//! A workload's block under construction: contracts go into the pre-state the first time a
//! transaction needs them, and every sender gets exactly the balances, tokens and allowances
//! its transaction spends, so every generated transaction succeeds.

use super::{
    BASE_FEE,
    contracts::{self, Contract, slots},
};
use crate::wallet::Wallet;
use alloy_consensus::{TxEip1559, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, Bytes, TxKind, U256, map::HashMap};
use pel::{InMemoryState, PreAccount};
use revm::state::AccountInfo;

/// ETH each sender starts with: far more than any transaction's fee and value.
const SENDER_ETH: u128 = 10_u128.pow(19);
/// Tokens a holder starts with, and each pool's reserve of each of its tokens.
const HOLDING: u128 = 10_u128.pow(24);
const RESERVE: u128 = 10_u128.pow(24);
/// Receivers of `transfers-hot`.
const HOT_RECEIVERS: u64 = 8;

/// One kind of transaction a workload is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// ETH to an account nobody else pays.
    Transfer,
    /// ETH to one of a few receivers.
    TransferHot,
    /// A token transfer to another holder.
    Erc20,
    /// A swap through the router on one pool.
    Swap,
    /// `Counter.increment()` on the one counter.
    Increment,
}

/// A deterministic random stream (SplitMix64): the same seed gives the same block everywhere.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (which must not be zero).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// A pool and its two tokens.
#[derive(Debug, Clone, Copy)]
struct Pool {
    address: Address,
    token0: Address,
    token1: Address,
}

/// The block being built.
#[derive(Debug)]
pub(crate) struct World {
    rng: Rng,
    senders: Vec<Wallet>,
    state: InMemoryState,
    /// Storage of the deployed contracts, written into `state` at the end.
    storage: HashMap<Address, HashMap<U256, U256>>,
    tokens: Vec<Address>,
    pools: Vec<Pool>,
    router: Option<Address>,
    counter: Option<Address>,
    unsigned: Vec<TxEip1559>,
}

impl World {
    /// A world for `txs` transactions, each from its own sender derived from `seed`.
    pub(crate) fn new(txs: usize, seed: u64) -> Self {
        let senders = parallel_map(0..txs as u64, |i| {
            Wallet::from_seed(seed.wrapping_mul(1_000_003).wrapping_add(i))
        });
        let mut state = InMemoryState::default();
        for sender in &senders {
            fund(&mut state, sender.address(), U256::from(SENDER_ETH));
        }
        Self {
            rng: Rng::new(seed),
            senders,
            state,
            storage: HashMap::default(),
            tokens: Vec::new(),
            pools: Vec::new(),
            router: None,
            counter: None,
            unsigned: Vec::new(),
        }
    }

    pub(crate) fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Deploys `count` tokens and `pools` pools between random pairs of them (none when zero).
    pub(crate) fn deploy_market(&mut self, count: usize, pools: usize) {
        for _ in 0..count {
            let address = self.deploy(Contract::Token, 0x7000 + self.tokens.len() as u64);
            self.set(address, slots::TOTAL_SUPPLY, U256::MAX >> 1);
            self.tokens.push(address);
        }
        if pools == 0 || count < 2 {
            return;
        }
        self.router = Some(self.deploy(Contract::Router, 0x7200));
        for index in 0..pools {
            let first = self.rng.below(count);
            let second = (first + 1 + self.rng.below(count - 1)) % count;
            let (Some(&token0), Some(&token1)) = (self.tokens.get(first), self.tokens.get(second))
            else {
                continue;
            };
            let address = self.deploy(Contract::Pair, 0x7400 + index as u64);
            self.set(
                address,
                slots::TOKEN0,
                U256::from_be_slice(token0.as_slice()),
            );
            self.set(
                address,
                slots::TOKEN1,
                U256::from_be_slice(token1.as_slice()),
            );
            self.set(address, slots::RESERVE0, U256::from(RESERVE));
            self.set(address, slots::RESERVE1, U256::from(RESERVE));
            self.set(
                token0,
                contracts::balance_slot(address),
                U256::from(RESERVE),
            );
            self.set(
                token1,
                contracts::balance_slot(address),
                U256::from(RESERVE),
            );
            self.pools.push(Pool {
                address,
                token0,
                token1,
            });
        }
    }

    /// Adds transaction number `index` (also its sender's index) of the given kind.
    pub(crate) fn push(&mut self, index: usize, kind: Kind) {
        let Some(sender) = self.senders.get(index).map(Wallet::address) else {
            return;
        };
        let (to, value, input, gas_limit) = match kind {
            Kind::Transfer => {
                let to = Address::left_padding_from(&(0x1000_0000 + index as u64).to_be_bytes());
                (to, U256::from(1_000 + index), Bytes::new(), 21_000)
            }
            Kind::TransferHot => {
                let which = self.rng.next() % HOT_RECEIVERS;
                let to = Address::left_padding_from(&(0x2000_0000 + which).to_be_bytes());
                (to, U256::from(1_000 + index), Bytes::new(), 21_000)
            }
            Kind::Erc20 => self.erc20(sender),
            Kind::Swap => self.swap(sender),
            Kind::Increment => {
                let counter = match self.counter {
                    Some(counter) => counter,
                    None => {
                        let counter = self.deploy(Contract::Counter, 0x7600);
                        self.counter = Some(counter);
                        counter
                    }
                };
                (counter, U256::ZERO, contracts::increment(), 60_000)
            }
        };
        self.unsigned.push(TxEip1559 {
            chain_id: 1,
            nonce: 0,
            gas_limit,
            max_fee_per_gas: u128::from(BASE_FEE) * 2,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(to),
            value,
            input,
            ..TxEip1559::default()
        });
    }

    fn erc20(&mut self, sender: Address) -> (Address, U256, Bytes, u64) {
        let token = self.pick_token();
        let holders = self.senders.len();
        let recipient = self
            .senders
            .get(self.rng.below(holders))
            .map_or(Address::ZERO, Wallet::address);
        self.set(token, contracts::balance_slot(sender), U256::from(HOLDING));
        self.set(
            token,
            contracts::balance_slot(recipient),
            U256::from(HOLDING),
        );
        let amount = U256::from(1 + self.rng.next() % 1_000_000_000_000);
        (
            token,
            U256::ZERO,
            contracts::transfer(recipient, amount),
            80_000,
        )
    }

    fn swap(&mut self, sender: Address) -> (Address, U256, Bytes, u64) {
        let (Some(router), Some(pool)) = (self.router, self.pick_pool()) else {
            return (sender, U256::ZERO, Bytes::new(), 21_000);
        };
        let token_in = if self.rng.next().is_multiple_of(2) {
            pool.token0
        } else {
            pool.token1
        };
        self.set(
            token_in,
            contracts::balance_slot(sender),
            U256::from(HOLDING),
        );
        self.set(
            token_in,
            contracts::allowance_slot(sender, router),
            U256::MAX,
        );
        let amount = U256::from(10_u64.pow(15) + self.rng.next() % 10_u64.pow(18));
        let input = contracts::swap_exact_tokens_for_tokens(
            amount,
            U256::from(1),
            &[pool.address],
            token_in,
            sender,
        );
        (router, U256::ZERO, input, 250_000)
    }

    fn pick_token(&mut self) -> Address {
        let index = self.rng.below(self.tokens.len());
        self.tokens.get(index).copied().unwrap_or_default()
    }

    fn pick_pool(&mut self) -> Option<Pool> {
        let index = self.rng.below(self.pools.len());
        self.pools.get(index).copied()
    }

    fn deploy(&mut self, contract: Contract, tag: u64) -> Address {
        let address = Address::left_padding_from(&(0xc0de_0000_0000 + tag).to_be_bytes());
        let code = contract.bytecode();
        self.state.insert_account(
            address,
            PreAccount {
                info: AccountInfo::default()
                    .with_nonce(1)
                    .with_code_hash(code.hash_slow())
                    .with_code(code),
                storage: Default::default(),
            },
        );
        self.storage.entry(address).or_default();
        address
    }

    fn set(&mut self, address: Address, slot: U256, value: U256) {
        self.storage.entry(address).or_default().insert(slot, value);
    }

    /// The pre-state, and the transactions signed by their senders.
    pub(crate) fn finish(mut self) -> (InMemoryState, Vec<Recovered<TxEnvelope>>) {
        for (address, storage) in std::mem::take(&mut self.storage) {
            let info = self
                .state
                .accounts()
                .get(&address)
                .map(|account| account.info.clone())
                .unwrap_or_default();
            self.state
                .insert_account(address, PreAccount { info, storage });
        }
        for which in 0..HOT_RECEIVERS {
            let address = Address::left_padding_from(&(0x2000_0000 + which).to_be_bytes());
            fund(&mut self.state, address, U256::from(SENDER_ETH));
        }
        let pairs: Vec<(Wallet, TxEip1559)> = self.senders.into_iter().zip(self.unsigned).collect();
        let signed = parallel_map(pairs, |(wallet, tx)| wallet.sign(tx));
        (self.state, signed)
    }
}

/// Gives `address` a balance in the pre-state.
pub(crate) fn fund(state: &mut InMemoryState, address: Address, balance: U256) {
    let info = AccountInfo::default().with_balance(balance);
    state.insert_account(
        address,
        PreAccount {
            info,
            storage: Default::default(),
        },
    );
}

/// `f` over `items` on every core, in order: key derivation and signing dominate generation.
fn parallel_map<I, T, R>(items: I, f: impl Fn(T) -> R + Sync) -> Vec<R>
where
    I: IntoIterator<Item = T>,
    T: Send,
    R: Send,
{
    let items: Vec<T> = items.into_iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| chunk.into_iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
            .collect()
    })
}
