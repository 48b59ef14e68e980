//! Which of this crate's processor-specific builds the processor can run, asked once:
//! the one place that knows (the block decoder and the output loops both ask here).

/// The processor features the builds are compiled for.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Features {
    /// AVX2 with BMI1, BMI2, LZCNT and POPCNT.
    Vector,
    /// BMI1, BMI2, LZCNT and POPCNT.
    BitFields,
    Baseline,
}

/// [`Features`] of this processor (found once, then a load).
#[cfg(target_arch = "x86_64")]
pub(crate) fn features() -> Features {
    use std::sync::OnceLock;
    static FOUND: OnceLock<Features> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let bit_fields = std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("popcnt");
        if bit_fields && std::arch::is_x86_feature_detected!("avx2") {
            Features::Vector
        } else if bit_fields {
            Features::BitFields
        } else {
            Features::Baseline
        }
    })
}

/// Whether the AVX2 builds may run (a processor with AVX2 but no BMI2 takes the
/// portable ones: no such processor is common).
#[cfg(target_arch = "x86_64")]
pub(crate) fn vector() -> bool {
    features() == Features::Vector
}
