//! The workloads' contracts: runtime bytecode compiled from `contracts/src` (rebuilt with
//! `npm ci && node build.mjs` in `crates/pel-inputs/contracts`), the storage slots generated
//! pre-states fill in, and the calldata of the calls transactions make.

use alloy_primitives::{Address, B256, Bytes, U256, hex, keccak256};
use revm::bytecode::Bytecode;

/// The Solidity contracts of the workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// ERC-20 token (`Token.sol`).
    Token,
    /// Constant-product pool (`Pair.sol`).
    Pair,
    /// Swap router over pairs (`Router.sol`).
    Router,
    /// One counter every call increments (`Counter.sol`).
    Counter,
}

impl Contract {
    /// Every contract, in the order of `contracts/bin`.
    pub const ALL: [Self; 4] = [Self::Counter, Self::Pair, Self::Router, Self::Token];

    /// The source file's name without `.sol`, which is also the contract's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Token => "Token",
            Self::Pair => "Pair",
            Self::Router => "Router",
            Self::Counter => "Counter",
        }
    }

    /// The committed runtime bytecode as hex, exactly as `contracts/bin/<Name>.hex` holds it.
    pub const fn hex(self) -> &'static str {
        match self {
            Self::Token => include_str!("../../contracts/bin/Token.hex"),
            Self::Pair => include_str!("../../contracts/bin/Pair.hex"),
            Self::Router => include_str!("../../contracts/bin/Router.hex"),
            Self::Counter => include_str!("../../contracts/bin/Counter.hex"),
        }
    }

    /// The runtime bytecode, ready for a pre-state.
    pub fn bytecode(self) -> Bytecode {
        // The files are written by build.mjs and checked by a test, so they always decode.
        let bytes = hex::decode(self.hex().trim()).unwrap_or_default();
        Bytecode::new_raw(Bytes::from(bytes))
    }
}

/// The slot of `mapping[key]` for a mapping declared at `slot`, as Solidity lays it out.
pub fn mapping_slot(key: B256, slot: U256) -> U256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(key.as_slice());
    preimage[32..].copy_from_slice(&slot.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(preimage).0)
}

/// `Token.balanceOf[owner]`.
pub fn balance_slot(owner: Address) -> U256 {
    mapping_slot(owner.into_word(), U256::ZERO)
}

/// `Token.allowance[owner][spender]`.
pub fn allowance_slot(owner: Address, spender: Address) -> U256 {
    let inner = mapping_slot(owner.into_word(), U256::from(1));
    mapping_slot(spender.into_word(), inner)
}

/// Slots of `Token.totalSupply` and of a pair's `token0`, `token1`, `reserve0`, `reserve1`.
pub mod slots {
    use alloy_primitives::U256;
    /// `Token.totalSupply`.
    pub const TOTAL_SUPPLY: U256 = U256::from_limbs([2, 0, 0, 0]);
    /// `Pair.token0`.
    pub const TOKEN0: U256 = U256::ZERO;
    /// `Pair.token1`.
    pub const TOKEN1: U256 = U256::from_limbs([1, 0, 0, 0]);
    /// `Pair.reserve0`.
    pub const RESERVE0: U256 = U256::from_limbs([2, 0, 0, 0]);
    /// `Pair.reserve1`.
    pub const RESERVE1: U256 = U256::from_limbs([3, 0, 0, 0]);
}

/// ABI calldata: the function's selector, then its arguments as words.
fn call(signature: &str, words: &[B256]) -> Bytes {
    let mut data = Vec::with_capacity(4 + 32 * words.len());
    let selector = keccak256(signature.as_bytes());
    data.extend_from_slice(selector.get(..4).unwrap_or_default());
    for word in words {
        data.extend_from_slice(word.as_slice());
    }
    data.into()
}

fn word(value: U256) -> B256 {
    B256::from(value.to_be_bytes::<32>())
}

/// `Token.transfer(to, value)`.
pub fn transfer(to: Address, value: U256) -> Bytes {
    call("transfer(address,uint256)", &[to.into_word(), word(value)])
}

/// `Router.swapExactTokensForTokens(amountIn, amountOutMin, pairs, tokenIn, to)`.
pub fn swap_exact_tokens_for_tokens(
    amount_in: U256,
    amount_out_min: U256,
    pairs: &[Address],
    token_in: Address,
    to: Address,
) -> Bytes {
    // Five head words, the array's offset pointing just past them.
    let mut words = vec![
        word(amount_in),
        word(amount_out_min),
        word(U256::from(5 * 32)),
        token_in.into_word(),
        to.into_word(),
        word(U256::from(pairs.len())),
    ];
    words.extend(pairs.iter().map(|pair| pair.into_word()));
    call(
        "swapExactTokensForTokens(uint256,uint256,address[],address,address)",
        &words,
    )
}

/// `Counter.increment()`.
pub fn increment() -> Bytes {
    call("increment()", &[])
}
