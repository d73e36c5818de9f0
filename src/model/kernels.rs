//! Which CPU kernels libtorch runs, chosen so that fp32 embeddings are the same bits on every
//! x86 machine with AVX2: libtorch's own kernels (softmax, layer norm, GELU, reductions) and
//! MKL's matrix products both pick a code path by the CPU they find, and an AVX-512 path rounds
//! differently from an AVX2 one. Pinning both to AVX2 (`ATEN_CPU_CAPABILITY=avx2`,
//! `MKL_CBWR=AVX2`, MKL's conditional numerical reproducibility) makes a document's embedding,
//! and so its sentiment, topic and problem, independent of the machine that computed it.
//!
//! The variables are read by libtorch and MKL on their first use, so they are set once, first
//! thing in `main`, before any other thread exists. A variable the user set is left alone (for
//! example `ATEN_CPU_CAPABILITY=avx512` to trade reproducibility for speed on such a CPU).

/// libtorch's kernel choice.
pub const ATEN_VARIABLE: &str = "ATEN_CPU_CAPABILITY";
/// MKL's reproducibility mode.
pub const MKL_VARIABLE: &str = "MKL_CBWR";

/// The variables to set on this CPU: none when it lacks AVX2 (it then has one path anyway).
pub fn portable_kernel_variables() -> Vec<(&'static str, &'static str)> {
    if !cpu_has_avx2() {
        return Vec::new();
    }
    vec![(ATEN_VARIABLE, "avx2"), (MKL_VARIABLE, "AVX2")]
}

/// Sets [`portable_kernel_variables`] that are not already set.
///
/// Call it before any other thread starts and before libtorch computes anything: setting the
/// environment while another thread reads it is undefined behaviour in C.
pub fn pin_portable_kernels() {
    for (name, value) in portable_kernel_variables() {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_paths_are_avx2_for_both_libraries_or_nothing() {
        let variables = portable_kernel_variables();
        if cpu_has_avx2() {
            assert_eq!(
                variables,
                vec![(ATEN_VARIABLE, "avx2"), (MKL_VARIABLE, "AVX2")]
            );
        } else {
            assert!(variables.is_empty());
        }
    }
}
