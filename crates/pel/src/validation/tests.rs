use super::*;
use alloy_consensus::{BlockBody, EMPTY_ROOT_HASH};
use revm::primitives::hardfork::SpecId;

fn cancun() -> Chain {
    Chain::single_fork(SpecId::CANCUN, 1)
}

fn parent() -> Header {
    Header {
        number: 10,
        timestamp: 1_000,
        gas_limit: 30_000_000,
        gas_used: 15_000_000,
        base_fee_per_gas: Some(1_000),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        ..Header::default()
    }
}

fn child(parent: &Header) -> Header {
    Header {
        parent_hash: parent.hash_slow(),
        number: parent.number + 1,
        timestamp: parent.timestamp + 12,
        base_fee_per_gas: parent.next_block_base_fee(BaseFeeParams::ethereum()),
        ..parent.clone()
    }
}

#[test]
fn a_well_formed_child_is_valid() {
    let parent = parent();
    validate_header(&cancun(), &child(&parent), &parent).unwrap();
}

#[test]
fn each_header_rule_rejects_its_violation() {
    let parent = parent();
    let chain = cancun();
    type Breaker = fn(&mut Header);
    let cases: Vec<(&str, Breaker)> = vec![
        ("parentHash", |h| h.parent_hash = B256::repeat_byte(1)),
        ("number", |h| h.number += 1),
        ("timestamp", |h| h.timestamp -= 12),
        ("extra data", |h| h.extra_data = vec![0; 33].into()),
        ("gas used", |h| h.gas_used = h.gas_limit + 1),
        ("gas limit up", |h| h.gas_limit += 30_000_000 / 1024),
        ("gas limit down", |h| h.gas_limit -= 30_000_000 / 1024),
        ("gas limit 2^63", |h| h.gas_limit = 1 << 63),
        ("base fee", |h| h.base_fee_per_gas = Some(7)),
        ("difficulty", |h| h.difficulty = U256::from(1)),
        ("nonce", |h| h.nonce = B64::repeat_byte(1)),
        ("ommers hash", |h| h.ommers_hash = B256::ZERO),
        ("withdrawals root", |h| h.withdrawals_root = None),
        ("blob gas fraction", |h| h.blob_gas_used = Some(1)),
        ("blob gas too much", |h| {
            h.blob_gas_used = Some(7 * DATA_GAS_PER_BLOB)
        }),
        ("excess blob gas", |h| {
            h.excess_blob_gas = Some(DATA_GAS_PER_BLOB)
        }),
        ("beacon root", |h| h.parent_beacon_block_root = None),
    ];
    for (name, break_it) in cases {
        let mut header = child(&parent);
        break_it(&mut header);
        assert!(
            validate_header(&chain, &header, &parent).is_err(),
            "{name} was accepted"
        );
    }
}

#[test]
fn gas_limit_may_move_by_less_than_one_1024th() {
    let parent = parent();
    let mut header = child(&parent);
    header.gas_limit += 30_000_000 / 1024 - 1;
    validate_header(&cancun(), &header, &parent).unwrap();
}

#[test]
fn london_block_starts_at_the_initial_base_fee() {
    let chain = Chain::mainnet();
    let parent = Header {
        number: 12_964_999,
        timestamp: 1_000,
        gas_limit: 15_000_000,
        ..Header::default()
    };
    let mut header = Header {
        parent_hash: parent.hash_slow(),
        number: 12_965_000,
        timestamp: 1_013,
        gas_limit: 30_000_000,
        base_fee_per_gas: Some(INITIAL_BASE_FEE),
        ..Header::default()
    };
    validate_header(&chain, &header, &parent).unwrap();
    header.base_fee_per_gas = None;
    assert_eq!(
        validate_header(&chain, &header, &parent),
        Err(InvalidBlock::MissingField("baseFeePerGas"))
    );
}

#[test]
fn body_must_match_the_header_roots() {
    let chain = cancun();
    let mut block = Block::<TxEnvelope> {
        header: Header {
            transactions_root: EMPTY_ROOT_HASH,
            ..child(&parent())
        },
        body: BlockBody {
            transactions: Vec::new(),
            ommers: Vec::new(),
            withdrawals: Some(Default::default()),
        },
    };
    validate_body(&chain, &block).unwrap();
    block.body.ommers.push(Header::default());
    assert_eq!(
        validate_body(&chain, &block),
        Err(InvalidBlock::OmmersAfterMerge(1))
    );
    block.body.ommers.clear();
    block.body.withdrawals = None;
    assert_eq!(
        validate_body(&chain, &block),
        Err(InvalidBlock::MissingField("withdrawals"))
    );
    block.body.withdrawals = Some(Default::default());
    block.header.transactions_root = B256::ZERO;
    assert!(matches!(
        validate_body(&chain, &block),
        Err(InvalidBlock::Field {
            field: "transactionsRoot",
            ..
        })
    ));
}
