//! Fork names as ethereum/tests writes them, and the rules each stands for.

use pel::Chain;
use revm::primitives::hardfork::SpecId;

/// Every fork name the suites use, oldest first, with the revm spec it runs under.
///
/// `Constantinople` as a test fork is Constantinople with EIP-1283, which mainnet never ran
/// (Petersburg removed EIP-1283 before activation); revm 43 has no such spec and runs it as
/// Petersburg, as mainnet did.
pub const FORKS: [(&str, SpecId); 15] = [
    ("Frontier", SpecId::FRONTIER),
    ("Homestead", SpecId::HOMESTEAD),
    ("EIP150", SpecId::TANGERINE),
    ("EIP158", SpecId::SPURIOUS_DRAGON),
    ("Byzantium", SpecId::BYZANTIUM),
    ("Constantinople", SpecId::PETERSBURG),
    ("ConstantinopleFix", SpecId::PETERSBURG),
    ("Petersburg", SpecId::PETERSBURG),
    ("Istanbul", SpecId::ISTANBUL),
    ("Berlin", SpecId::BERLIN),
    ("London", SpecId::LONDON),
    ("Paris", SpecId::MERGE),
    ("Merge", SpecId::MERGE),
    ("Shanghai", SpecId::SHANGHAI),
    ("Cancun", SpecId::CANCUN),
];

/// The revm spec for a fork name, or `None` for a fork pel does not claim (Prague and later
/// in this snapshot, or a transition network such as `ShanghaiToCancunAtTime15k`).
pub fn spec_for(name: &str) -> Option<SpecId> {
    FORKS
        .iter()
        .find(|(fork, _)| *fork == name)
        .map(|(_, spec)| *spec)
}

/// The chain a test runs on: `name`'s fork and all before it active from genesis, chain id 1.
pub fn chain_for(name: &str) -> Option<Chain> {
    spec_for(name).map(|spec| Chain::single_fork(spec, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_specs() {
        assert_eq!(spec_for("Frontier"), Some(SpecId::FRONTIER));
        assert_eq!(spec_for("EIP158"), Some(SpecId::SPURIOUS_DRAGON));
        assert_eq!(spec_for("ConstantinopleFix"), Some(SpecId::PETERSBURG));
        assert_eq!(spec_for("Cancun"), Some(SpecId::CANCUN));
        assert_eq!(spec_for("ShanghaiToCancunAtTime15k"), None);
        let chain = chain_for("London").unwrap();
        assert_eq!(chain.spec_id(1, 1), SpecId::LONDON);
    }
}
