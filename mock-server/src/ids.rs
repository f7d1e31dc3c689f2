//! Identifiers and secrets.
//!
//! Object ids come from a seeded generator owned by the tenant, so a seeded run
//! creates the same ids every time. Secrets, keys and token ids that must not be
//! guessable come from the operating system's generator instead.

use ring::rand::SecureRandom;
use uuid::Uuid;

/// xoshiro256** seeded through splitmix64: small, fast and reproducible, which is
/// all object ids need (they are identifiers, not secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct IdGen {
    s: [u64; 4],
}

impl IdGen {
    pub(crate) fn seeded(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        IdGen { s: [next(), next(), next(), next()] }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A version-4-shaped GUID, as Graph's object ids are.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Opaque base64url ids, the shape Graph gives app role assignments, grants and
    /// role assignments.
    pub(crate) fn opaque_id(&mut self) -> String {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..32])
    }
}

/// Bytes from the OS generator, for secrets and keys.
pub(crate) fn secure_bytes<const N: usize>() -> [u8; N] {
    // The OS generator's output, drawn a block at a time per thread: a new
    // tenant needs four small draws and a token one, and each draw was a
    // system call. Bytes are handed out once and never reused.
    const BLOCK: usize = 1024;
    thread_local! {
        static POOL: std::cell::RefCell<(Box<[u8; BLOCK]>, usize)> =
            std::cell::RefCell::new((Box::new([0u8; BLOCK]), BLOCK));
    }
    let mut out = [0u8; N];
    if N > BLOCK / 4 {
        ring::rand::SystemRandom::new().fill(&mut out).expect("the operating system's random generator is available");
        return out;
    }
    POOL.with(|pool| {
        let (block, used) = &mut *pool.borrow_mut();
        if *used + N > BLOCK {
            ring::rand::SystemRandom::new()
                .fill(&mut block[..])
                .expect("the operating system's random generator is available");
            *used = 0;
        }
        out.copy_from_slice(&block[*used..*used + N]);
        block[*used..*used + N].fill(0);
        *used += N;
    });
    out
}

/// Compare secrets in time independent of where they differ, so a fake never
/// teaches a timing oracle.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A seed for a server that was not given one.
pub(crate) fn random_seed() -> u64 {
    u64::from_le_bytes(secure_bytes::<8>())
}

const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";

/// A client secret shaped like Entra's: 40 characters, the first three are the
/// `hint`, then a digit, `Q~`, and 34 more.
pub(crate) fn client_secret_text() -> String {
    let raw = secure_bytes::<40>();
    let alnum = &SECRET_ALPHABET[..62];
    let mut s = String::with_capacity(40);
    for b in &raw[..3] {
        s.push(alnum[*b as usize % alnum.len()] as char);
    }
    s.push((b'0' + raw[3] % 10) as char);
    s.push_str("Q~");
    for b in &raw[6..] {
        s.push(SECRET_ALPHABET[*b as usize % SECRET_ALPHABET.len()] as char);
    }
    s
}

/// A password that satisfies Entra's complexity rules, for seeded users.
pub(crate) fn password_text() -> String {
    let raw = secure_bytes::<12>();
    let mut s = String::from("Gb!");
    for b in raw {
        s.push(SECRET_ALPHABET[b as usize % 62] as char);
    }
    s.push_str("9a");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_secure_draws_never_repeat_across_block_refills() {
        let draws: std::collections::HashSet<[u8; 16]> = (0..2000).map(|_| secure_bytes::<16>()).collect();
        assert_eq!(draws.len(), 2000, "2000 draws of 16 bytes span about 31 refills; none may repeat");
        assert_ne!(secure_bytes::<300>(), [0u8; 300], "large draws go to the OS directly");
    }

    #[test]
    fn the_same_seed_gives_the_same_ids() {
        let mut a = IdGen::seeded(7);
        let mut b = IdGen::seeded(7);
        assert_eq!(a.uuid(), b.uuid());
        assert_ne!(a.uuid(), IdGen::seeded(8).uuid());
    }

    #[test]
    fn generated_ids_are_version_4_guids() {
        let id = IdGen::seeded(1).uuid();
        assert_eq!(id.get_version_num(), 4);
    }

    #[test]
    fn client_secrets_have_entras_shape() {
        let s = client_secret_text();
        assert_eq!(s.len(), 40);
        assert_eq!(&s[4..6], "Q~");
        assert!(s.as_bytes()[3].is_ascii_digit());
    }
}
