//! One-time set-up costs paid before anything is timed.

/// Loads what revm loads lazily on first use, so the first block that needs it is not charged
/// for it: today the KZG trusted setup of the point-evaluation precompile (about 2 s).
pub fn warm_up() {
    // An all-zero proof is invalid; verifying it still loads the trusted setup.
    let _ = revm::precompile::kzg_point_evaluation::verify_kzg_proof(
        &[0; 48], &[0; 32], &[0; 32], &[0; 48],
    );
}
