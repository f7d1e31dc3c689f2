//! Key material: the TLS certificate authority and server certificate, and the
//! RSA key that signs access tokens.
//!
//! The binary keeps them in `--data-dir`, so a client trusts the CA once and
//! tokens survive a restart. In-process servers started without a data
//! directory use the same default directory as the binary ([`default_data_dir`]):
//! generating a 2048-bit RSA key costs ~100 ms optimised but several seconds in
//! an unoptimised (debug) build, which every test binary of a consumer would pay
//! at its first start. Loading the saved key costs milliseconds. The key stays a
//! real secret (owner-only files, made by this user's first start), tokens are
//! still signed with it and verified against it, and within a process one copy
//! is shared by every server: the material is immutable, so sharing leaks no
//! state between servers (their tenants, and therefore the issuers their tokens
//! must carry, are still their own).
//!
//! Several processes may start at once on an empty directory (parallel test
//! binaries): one of them creates the files under a lock file, the others wait
//! for it, and every file is written whole (temporary file, then rename), so no
//! process ever reads a half-written key or a CA that does not match its leaf.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why key material could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable {what}; delete it to have a new one generated")]
    Invalid { path: PathBuf, what: &'static str },
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

/// Everything a server needs to speak TLS and sign tokens.
#[derive(Debug)]
pub(crate) struct KeyMaterial {
    pub tls: TlsMaterial,
    pub signing: SigningKey,
}

/// A local CA and a `localhost`/`127.0.0.1`/`::1` server certificate it signed.
pub(crate) struct TlsMaterial {
    pub ca_pem: String,
    pub chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
    /// Where the CA certificate is on disk, for clients (the ready line's `ca_file`).
    pub ca_file: PathBuf,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial").field("ca_file", &self.ca_file).finish_non_exhaustive()
    }
}

impl TlsMaterial {
    pub(crate) fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// The RS256 key that signs every token the mock issues.
pub(crate) struct SigningKey {
    pair: RsaKeyPair,
    /// `kid` (and `x5t`): base64url SHA-1 of the public key, as Entra's key ids are
    /// base64url SHA-1 thumbprints.
    pub kid: String,
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_pkcs8(der: &[u8]) -> Option<Self> {
        let pair = RsaKeyPair::from_pkcs8(der).ok()?;
        let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        let (modulus, exponent) = (components.n, components.e);
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, pair.public().as_ref());
        let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        Some(SigningKey { pair, kid, modulus, exponent })
    }

    fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
        use rsa::pkcs8::EncodePrivateKey;
        let key =
            rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|e| KeyError::Generate(e.to_string()))?;
        let der = key.to_pkcs8_der().map_err(|e| KeyError::Generate(e.to_string()))?;
        Ok(der.as_bytes().to_vec())
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message, &mut sig)
            .expect("PKCS#1 v1.5 signing with a valid key and a right-sized buffer cannot fail");
        sig
    }

    /// Whether `signature` is this key's signature over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        RsaPublicKeyComponents { n: &self.modulus, e: &self.exponent }
            .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok()
    }
}

/// The binary's default `--data-dir`, also where in-process servers keep their
/// key material: `$GRAPHBOX_DATA_DIR`, else `$XDG_DATA_HOME/graphbox`, else
/// `~/.local/share/graphbox`, else `graphbox` in the temporary directory.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GRAPHBOX_DATA_DIR") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("graphbox")
}

/// The files that make a complete set, signing key first.
const FILES: [&str; 5] = ["token-signing-key.pem", "ca.pem", "ca-key.pem", "server.pem", "server-key.pem"];

impl KeyMaterial {
    /// Load the material from `dir`, generating (and saving) whatever is missing.
    pub(crate) fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        create_private_dir(dir)?;
        if FILES.iter().all(|f| dir.join(f).exists()) {
            return Self::load_or_generate_missing(dir);
        }
        // Something is missing: make it under the lock, after looking again
        // (another process may have finished while this one waited).
        let _lock = DirLock::acquire(dir)?;
        Self::load_or_generate_missing(dir)
    }

    fn load_or_generate_missing(dir: &Path) -> Result<Self, KeyError> {
        let signing_path = dir.join("token-signing-key.pem");
        let signing_der = match read_optional(&signing_path)? {
            Some(pem) => PrivatePkcs8KeyDer::from_pem_slice(&pem)
                .map_err(|_| KeyError::Invalid { path: signing_path.clone(), what: "PKCS#8 RSA key" })?
                .secret_pkcs8_der()
                .to_vec(),
            None => {
                let der = SigningKey::generate_pkcs8()?;
                let pem = pem_encode("PRIVATE KEY", &der);
                write_private(&signing_path, pem.as_bytes())?;
                der
            }
        };
        let signing = SigningKey::from_pkcs8(&signing_der)
            .ok_or(KeyError::Invalid { path: signing_path, what: "PKCS#8 RSA key" })?;
        let tls = TlsMaterial::load_or_create(dir)?;
        Ok(KeyMaterial { tls, signing })
    }

    /// The process-wide material for in-process servers started without a data
    /// directory: [`default_data_dir`]'s, loaded once per process; when that
    /// directory cannot be used (read-only home, no permission), a set made for
    /// this process alone in the temporary directory.
    pub(crate) fn ephemeral() -> Result<Arc<Self>, KeyError> {
        static SHARED: OnceLock<Arc<KeyMaterial>> = OnceLock::new();
        // One generator at a time: servers starting in parallel must not each
        // write a CA file into the same folder while only one CA is kept.
        static GENERATING: Mutex<()> = Mutex::new(());
        if let Some(m) = SHARED.get() {
            return Ok(m.clone());
        }
        let _one_at_a_time = GENERATING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = SHARED.get() {
            return Ok(m.clone());
        }
        let shared_dir = default_data_dir();
        let material = match Self::load_or_create(&shared_dir) {
            Ok(material) => material,
            Err(e) => {
                tracing::warn!(
                    "cannot use {} for key material ({e}); generating keys for this process only",
                    shared_dir.display()
                );
                let dir = std::env::temp_dir().join(format!("graphbox-{}", std::process::id()));
                create_private_dir(&dir)?;
                let signing = SigningKey::from_pkcs8(&SigningKey::generate_pkcs8()?)
                    .ok_or_else(|| KeyError::Generate("generated RSA key was rejected".into()))?;
                let tls = TlsMaterial::generate_into(&dir)?;
                KeyMaterial { tls, signing }
            }
        };
        Ok(SHARED.get_or_init(|| Arc::new(material)).clone())
    }
}

impl TlsMaterial {
    fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        let ca_file = dir.join("ca.pem");
        let files: Vec<PathBuf> = FILES[1..].iter().map(|f| dir.join(f)).collect();
        if files.iter().all(|f| f.exists()) {
            let read = |p: &Path| -> Result<Vec<u8>, KeyError> {
                fs::read(p).map_err(|source| KeyError::Io { path: p.to_owned(), source })
            };
            let ca_pem = String::from_utf8(read(&files[0])?)
                .map_err(|_| KeyError::Invalid { path: files[0].clone(), what: "PEM certificate" })?;
            let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
                .map_err(|_| KeyError::Invalid { path: files[0].clone(), what: "PEM certificate" })?;
            let leaf = CertificateDer::from_pem_slice(&read(&files[2])?)
                .map_err(|_| KeyError::Invalid { path: files[2].clone(), what: "PEM certificate" })?;
            let key = PrivatePkcs8KeyDer::from_pem_slice(&read(&files[3])?)
                .map_err(|_| KeyError::Invalid { path: files[3].clone(), what: "PKCS#8 key" })?;
            return Ok(TlsMaterial {
                ca_pem,
                chain: vec![leaf, ca_der],
                key_der: key.secret_pkcs8_der().to_vec(),
                ca_file,
            });
        }
        Self::generate_into(dir)
    }

    fn generate_into(dir: &Path) -> Result<Self, KeyError> {
        let gen = |e: rcgen::Error| KeyError::Generate(e.to_string());
        let now = crate::clock::system_now();

        let ca_key = KeyPair::generate().map_err(gen)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
        ca.distinguished_name.push(DnType::CommonName, "graphbox local CA");
        ca.distinguished_name.push(DnType::OrganizationName, "graphbox");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        ca.not_before = now - time::Duration::days(1);
        ca.not_after = now + time::Duration::days(3650);
        let ca_cert = ca.self_signed(&ca_key).map_err(gen)?;

        let leaf_key = KeyPair::generate().map_err(gen)?;
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).map_err(gen)?;
        leaf.subject_alt_names.push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        leaf.subject_alt_names.push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        leaf.distinguished_name.push(DnType::CommonName, "localhost");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = now - time::Duration::days(1);
        leaf.not_after = now + time::Duration::days(825);
        let issuer = Issuer::new(ca, ca_key);
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(gen)?;

        let ca_file = dir.join("ca.pem");
        let ca_pem = ca_cert.pem();
        write_public(&ca_file, ca_pem.as_bytes())?;
        write_private(&dir.join("ca-key.pem"), issuer.key().serialize_pem().as_bytes())?;
        write_public(&dir.join("server.pem"), leaf_cert.pem().as_bytes())?;
        write_private(&dir.join("server-key.pem"), leaf_key.serialize_pem().as_bytes())?;
        Ok(TlsMaterial {
            ca_pem,
            chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key_der: leaf_key.serialize_der(),
            ca_file,
        })
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io { path: path.to_owned(), source }),
    }
}

fn write_public(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    write_whole(path, bytes, 0o644)
}

/// Private keys are written owner-readable only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    write_whole(path, bytes, 0o600)
}

/// Write beside `path`, then rename: a reader in another process sees the old
/// file, no file, or the whole new one.
fn write_whole(path: &Path, bytes: &[u8], #[cfg_attr(not(unix), allow(unused))] mode: u32) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_owned(), source };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut f = options.open(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    drop(f);
    fs::rename(&tmp, path).map_err(io)
}

/// Create `dir` (owner-only on Unix when this call creates it).
fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| KeyError::Io { path: dir.to_owned(), source })
}

/// An exclusive lock on making key material in a directory, held by one
/// process: the file `.keys.lock`, created with `create_new`, removed on drop.
/// A lock older than [`DirLock::STALE`] belongs to a process that died while
/// generating and is taken over.
struct DirLock(PathBuf);

impl DirLock {
    /// Far longer than generating takes even unoptimised (seconds).
    const STALE: std::time::Duration = std::time::Duration::from_secs(120);

    fn acquire(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(".keys.lock");
        loop {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(DirLock(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // Modification times are file-system facts, not the
                    // server's clock, so the OS clock is the right one here.
                    let stale = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|at| at.elapsed().ok())
                        .is_some_and(|age| age > Self::STALE);
                    if stale {
                        let _ = fs::remove_file(&path);
                    } else {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                }
                Err(source) => return Err(KeyError::Io { path, source }),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("graphbox-keys-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn starts_racing_on_an_empty_directory_all_get_the_one_key_set_that_was_saved() {
        let dir = fresh_dir("race");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || KeyMaterial::load_or_create(&dir).map(|m| (m.signing.kid, m.tls.ca_pem)))
            })
            .collect();
        let sets: Vec<_> = threads.into_iter().map(|t| t.join().expect("no panic").expect("keys")).collect();
        assert!(sets.windows(2).all(|w| w[0] == w[1]), "every racer must end with the same key and CA");
        let again = KeyMaterial::load_or_create(&dir).expect("reload");
        assert_eq!((again.signing.kid, again.tls.ca_pem), sets[0].clone(), "a later start loads, never regenerates");
        assert!(!dir.join(".keys.lock").exists(), "the lock is released");
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files stay behind: {leftovers:?}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn saved_private_keys_and_their_directory_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = fresh_dir("modes");
        KeyMaterial::load_or_create(&dir).expect("keys");
        let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for key in ["token-signing-key.pem", "ca-key.pem", "server-key.pem"] {
            assert_eq!(mode(&dir.join(key)), 0o600, "{key}");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over() {
        let dir = fresh_dir("stale");
        create_private_dir(&dir).expect("dir");
        let lock = dir.join(".keys.lock");
        let f = fs::File::create(&lock).expect("lock");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        f.set_modified(old).expect("backdate");
        drop(f);
        KeyMaterial::load_or_create(&dir).expect("a stale lock does not block");
        let _ = fs::remove_dir_all(&dir);
    }
}
