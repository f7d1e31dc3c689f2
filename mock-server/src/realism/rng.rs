//! Every random choice realism makes comes from here, so a seed and a request
//! sequence decide them all. Two kinds: a draw keyed by what it is about (an
//! object's replication window: the same whatever order requests come in), and
//! a stream advanced once per choice made while serving a request.

/// splitmix64's finalizer: a good 64-bit mix.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw that depends only on the seed, a purpose and a key.
pub(crate) fn keyed(seed: u64, purpose: u64, key: &[u8]) -> u64 {
    let mut h = mix(seed ^ purpose.wrapping_mul(0xA24B_AED4_963E_E407));
    for chunk in key.chunks(8) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(b));
    }
    h
}

/// A number in [0, 1) from 53 bits of `x`.
pub(crate) fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// `lo + (hi - lo) * u`.
pub(crate) fn between(lo: f64, hi: f64, u: f64) -> f64 {
    lo + (hi - lo) * u
}

/// Purposes of keyed draws, so two kinds of choice about one object differ.
pub(crate) mod purpose {
    pub(crate) const REPLICATION: u64 = 1;
    pub(crate) const TOKEN_PROPAGATION: u64 = 2;
    pub(crate) const STREAM: u64 = 3;
}

/// The per-request stream.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    state: u64,
}

impl Stream {
    pub(crate) fn new(seed: u64) -> Self {
        Stream { state: keyed(seed, purpose::STREAM, &[]) }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    pub(crate) fn unit(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// True with probability `p`; consumes one draw only when `0 < p < 1`, so a
    /// setting of 0 or 1 does not shift later choices.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.unit() < p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream_and_another_seed_another() {
        let a: Vec<u64> = {
            let mut s = Stream::new(7);
            (0..8).map(|_| s.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut s = Stream::new(7);
            (0..8).map(|_| s.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut s = Stream::new(8);
            (0..8).map(|_| s.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn keyed_draws_depend_on_seed_purpose_and_key_and_units_stay_in_range() {
        let k = keyed(1, purpose::REPLICATION, b"abc");
        assert_eq!(k, keyed(1, purpose::REPLICATION, b"abc"));
        assert_ne!(k, keyed(2, purpose::REPLICATION, b"abc"));
        assert_ne!(k, keyed(1, purpose::TOKEN_PROPAGATION, b"abc"));
        assert_ne!(k, keyed(1, purpose::REPLICATION, b"abd"));
        let mut s = Stream::new(3);
        assert!((0..1000).map(|_| s.unit()).all(|u| (0.0..1.0).contains(&u)));
    }

    #[test]
    fn certain_and_impossible_chances_draw_nothing() {
        let mut a = Stream::new(5);
        let mut b = Stream::new(5);
        assert!(!a.chance(0.0) && a.chance(1.0));
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
