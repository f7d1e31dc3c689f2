//! Key material: the TLS certificate authority and server certificate, and the
//! RSA key that signs access tokens with its self-signed certificate.
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

/// The RS256 key that signs every token the mock issues, and its certificate.
///
/// Entra publishes each signing key with a self-signed certificate (the JWKS's
/// `x5c`) and names the key by that certificate's thumbprint. Clients lean on
/// both: Microsoft.IdentityModel and Node's `jwks-rsa` build the key from `x5c`
/// when it is there, and a `kid` that is not the certificate's thumbprint would
/// match nothing a client computes from the certificate.
pub(crate) struct SigningKey {
    pair: RsaKeyPair,
    /// `kid` (and `x5t`): base64url SHA-1 of the certificate's DER, as Entra's are.
    pub kid: String,
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
    /// The self-signed certificate of the key, DER.
    pub certificate: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The subject (and, self-signed, the issuer) of Entra's token-signing
/// certificates.
const SIGNING_SUBJECT: &str = "accounts.accesscontrol.windows.net";

impl SigningKey {
    /// `pair` with `certificate`, or `None` when the certificate does not parse
    /// or is not for this key.
    fn from_parts(pair: RsaKeyPair, certificate: Vec<u8>) -> Option<Self> {
        let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        let (modulus, exponent) = (components.n, components.e);
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &certificate);
        let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        let key = SigningKey { pair, kid, modulus, exponent, certificate };
        key.certifies_itself().then_some(key)
    }

    /// Whether the certificate carries this key's public key: a certificate left
    /// from another key would publish a key that verifies nothing. Compared as
    /// bytes (an RSA SubjectPublicKeyInfo ends with the PKCS#1 public key) rather
    /// than by signing, which would add milliseconds to every binary start.
    fn certifies_itself(&self) -> bool {
        let der = CertificateDer::from(self.certificate.as_slice());
        let Ok(cert) = webpki::EndEntityCert::try_from(&der) else { return false };
        cert.subject_public_key_info().as_ref().ends_with(self.pair.public().as_ref())
    }

    /// A self-signed certificate for the key in `pkcs8`, like Entra's: its subject
    /// and issuer are [`SIGNING_SUBJECT`], valid from a day ago for five years.
    fn certify(pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
        let gen = |e: rcgen::Error| KeyError::Generate(e.to_string());
        let signer = KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8), &rcgen::PKCS_RSA_SHA256)
            .map_err(gen)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, SIGNING_SUBJECT);
        let now = crate::clock::system_now();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(5 * 365);
        Ok(params.self_signed(&signer).map_err(gen)?.der().to_vec())
    }

    /// A new key with its certificate, neither saved.
    fn generate() -> Result<Self, KeyError> {
        let rejected = || KeyError::Generate("generated RSA key or its certificate was rejected".into());
        let pkcs8 = Self::generate_pkcs8()?;
        let pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| rejected())?;
        Self::from_parts(pair, Self::certify(&pkcs8)?).ok_or_else(rejected)
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

/// The token-signing key and its certificate.
const SIGNING_FILES: [&str; 2] = ["token-signing-key.pem", "token-signing.pem"];
/// The TLS CA, its key, the server certificate and its key.
const TLS_FILES: [&str; 4] = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"];

impl KeyMaterial {
    /// Load the material from `dir`, generating (and saving) whatever is missing.
    pub(crate) fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        create_private_dir(dir)?;
        if SIGNING_FILES.iter().chain(&TLS_FILES).all(|f| dir.join(f).exists()) {
            return Self::load_or_generate_missing(dir);
        }
        // Something is missing: make it under the lock, after looking again
        // (another process may have finished while this one waited).
        let _lock = DirLock::acquire(dir)?;
        Self::load_or_generate_missing(dir)
    }

    fn load_or_generate_missing(dir: &Path) -> Result<Self, KeyError> {
        let signing_path = dir.join(SIGNING_FILES[0]);
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
        let pair = RsaKeyPair::from_pkcs8(&signing_der)
            .map_err(|_| KeyError::Invalid { path: signing_path, what: "PKCS#8 RSA key" })?;
        // A directory from before the certificate gets one for its key. The `kid` then
        // changes once, so access tokens signed before it are refused as signed by
        // another key (they would have expired within the hour anyway).
        let certificate_path = dir.join(SIGNING_FILES[1]);
        let certificate = match read_optional(&certificate_path)? {
            Some(pem) => CertificateDer::from_pem_slice(&pem)
                .map_err(|_| KeyError::Invalid { path: certificate_path.clone(), what: "PEM certificate" })?
                .to_vec(),
            None => {
                let der = SigningKey::certify(&signing_der)?;
                write_public(&certificate_path, pem_encode("CERTIFICATE", &der).as_bytes())?;
                der
            }
        };
        let signing = SigningKey::from_parts(pair, certificate)
            .ok_or(KeyError::Invalid { path: certificate_path, what: "certificate of token-signing-key.pem" })?;
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
                let signing = SigningKey::generate()?;
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
        let files: Vec<PathBuf> = TLS_FILES.iter().map(|f| dir.join(f)).collect();
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
    fn a_directory_from_before_the_signing_certificate_gets_one_for_its_own_key() {
        let dir = fresh_dir("upgrade");
        let first = KeyMaterial::load_or_create(&dir).expect("keys");
        let key_pem = fs::read(dir.join(SIGNING_FILES[0])).expect("key");
        fs::remove_file(dir.join(SIGNING_FILES[1])).expect("as an older release left it");
        let again = KeyMaterial::load_or_create(&dir).expect("reload");
        assert_eq!(fs::read(dir.join(SIGNING_FILES[0])).expect("key"), key_pem, "the key itself is kept");
        assert_eq!(again.signing.modulus, first.signing.modulus);
        assert!(again.signing.certifies_itself());
        let thumbprint = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &again.signing.certificate);
        let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(thumbprint.as_ref());
        assert_eq!(again.signing.kid, thumbprint, "the kid is the new certificate's thumbprint");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_signing_certificate_of_another_key_stops_the_start_and_names_the_file() {
        let dir = fresh_dir("mismatch");
        KeyMaterial::load_or_create(&dir).expect("keys");
        let other = SigningKey::generate().expect("another key");
        fs::write(dir.join(SIGNING_FILES[1]), pem_encode("CERTIFICATE", &other.certificate)).expect("swap");
        let err = KeyMaterial::load_or_create(&dir).expect_err("a certificate that is not the key's is refused");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is not a usable certificate of token-signing-key.pem; delete it to have a new one generated",
                dir.join(SIGNING_FILES[1]).display()
            )
        );
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
