//! Digests of downloaded files and how registries and lockfiles write
//! them: SRI (`sha512-BASE64`), hex, and `sha256:HEX`.

use std::fmt;

use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

/// A hash function registries use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// SHA-1, npm's legacy `shasum`.
    Sha1,
    /// SHA-256: PyPI, crates.io, lockfile hashes.
    Sha256,
    /// SHA-512: npm's `integrity`.
    Sha512,
}

impl Algorithm {
    /// The lowercase name, as SRI writes it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name.to_ascii_lowercase().as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// A digest: an algorithm and the hash it gives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Digest {
    /// The hash function.
    pub algorithm: Algorithm,
    /// The raw hash.
    pub bytes: Vec<u8>,
}

impl Digest {
    /// The digest of `data` under `algorithm`.
    pub fn of(algorithm: Algorithm, data: &[u8]) -> Digest {
        let bytes = match algorithm {
            Algorithm::Sha1 => Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => Sha256::digest(data).to_vec(),
            Algorithm::Sha512 => Sha512::digest(data).to_vec(),
        };
        Digest { algorithm, bytes }
    }

    /// A digest written as hex.
    pub fn from_hex(algorithm: Algorithm, hex: &str) -> Option<Digest> {
        let bytes = HEXLOWER_PERMISSIVE.decode(hex.trim().as_bytes()).ok()?;
        Digest::checked(algorithm, bytes)
    }

    /// A digest written `ALGO:HEX` (`sha256:abc…`), as pip, Poetry and
    /// uv write them.
    pub fn from_prefixed_hex(text: &str) -> Option<Digest> {
        let (name, hex) = text.trim().split_once(':')?;
        Digest::from_hex(Algorithm::from_name(name)?, hex)
    }

    /// The digests of a Subresource Integrity string (`sha512-BASE64`,
    /// several separated by spaces); unknown algorithms are left out.
    pub fn from_sri(text: &str) -> Vec<Digest> {
        text.split_whitespace().filter_map(Digest::one_sri).collect()
    }

    /// The hash as lowercase hex.
    pub fn hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.bytes)
    }

    /// The digest as Subresource Integrity writes it: `sha512-BASE64`.
    pub fn to_sri(&self) -> String {
        format!("{}-{}", self.algorithm.name(), BASE64.encode(&self.bytes))
    }

    fn one_sri(item: &str) -> Option<Digest> {
        let (name, value) = item.split_once('-')?;
        let value = value.split('?').next().unwrap_or(value);
        let bytes = BASE64.decode(value.as_bytes()).ok()?;
        Digest::checked(Algorithm::from_name(name)?, bytes)
    }

    fn checked(algorithm: Algorithm, bytes: Vec<u8>) -> Option<Digest> {
        let len = match algorithm {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        };
        (bytes.len() == len).then_some(Digest { algorithm, bytes })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex())
    }
}

/// Checks `data` against a set of acceptable digests: it passes when it
/// matches any digest of the strongest algorithm in the set. Returns
/// `Err((expected, actual))` for the report otherwise; an empty set
/// passes.
pub fn verify(
    data: &[u8],
    expected: &[Digest],
) -> Result<(), (String, String)> {
    let Some(strongest) = expected.iter().map(|d| d.algorithm).max() else {
        return Ok(());
    };
    let actual = Digest::of(strongest, data);
    let candidates: Vec<&Digest> =
        expected.iter().filter(|d| d.algorithm == strongest).collect();
    if candidates.iter().any(|d| **d == actual) {
        return Ok(());
    }
    let shown: Vec<String> =
        candidates.iter().map(|d| d.to_string()).collect();
    Err((shown.join(" or "), actual.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sri_and_hex_agree() {
        let data = b"hello";
        let sha = Digest::of(Algorithm::Sha512, data);
        let sri = format!("sha512-{}", BASE64.encode(&sha.bytes));
        assert_eq!(Digest::from_sri(&sri), vec![sha.clone()]);
        assert!(verify(data, &[sha]).is_ok());
        let hex = Digest::of(Algorithm::Sha256, data).to_string();
        let parsed = Digest::from_prefixed_hex(&hex);
        assert_eq!(parsed, Some(Digest::of(Algorithm::Sha256, data)));
    }

    #[test]
    fn the_strongest_algorithm_decides() {
        let weak = Digest::of(Algorithm::Sha1, b"a");
        let strong = Digest::of(Algorithm::Sha512, b"b");
        assert!(verify(b"a", &[weak, strong]).is_err());
        assert!(Digest::from_hex(Algorithm::Sha256, "abcd").is_none());
    }
}
