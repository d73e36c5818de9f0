//! A tiny seeded pseudo-random generator (SplitMix64).
//!
//! Clustering must be deterministic for a given input and seed, and the few
//! random choices it makes (projection directions, visiting orders, initial
//! neighbours) need nothing stronger than SplitMix64, so the crate carries its
//! own generator instead of a dependency.

/// SplitMix64: fast, 64 bits of state, good enough for sampling and shuffling.
#[derive(Debug, Clone)]
pub struct Random {
    state: u64,
}

impl Random {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = self.state;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }

    /// A uniform index in `0..bound` (`bound` must be positive).
    pub fn below(&mut self, bound: usize) -> usize {
        (((self.next_u64() >> 11) as u128 * bound as u128) >> 53) as usize
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal sample (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
        radius * (std::f64::consts::TAU * self.unit()).cos()
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            items.swap(index, self.below(index + 1));
        }
    }

    /// A generator for a sub-task, independent of this one's later draws.
    pub fn fork(&mut self) -> Random {
        Random::new(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sequence() {
        let mut first = Random::new(42);
        let mut second = Random::new(42);
        for _ in 0..100 {
            assert_eq!(first.next_u64(), second.next_u64());
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut random = Random::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let value = random.below(7);
            seen[value] = true;
        }
        assert!(seen.iter().all(|&hit| hit));
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut random = Random::new(3);
        let samples: Vec<f64> = (0..20_000).map(|_| random.normal()).collect();
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let variance =
            samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.05, "variance {variance}");
    }
}
