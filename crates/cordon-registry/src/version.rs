//! Ordering versions well enough to pick "the latest": numeric release
//! parts first, a pre-release below its release.

use std::cmp::Ordering;

/// Whether a version looks like a pre-release (`1.0.0-beta.1`,
/// `2.0rc1`, `1.0.dev3`).
pub(crate) fn is_prerelease(version: &str) -> bool {
    let core = version.split('+').next().unwrap_or(version);
    core.contains('-') || core.chars().any(|c| c.is_ascii_alphabetic())
}

/// Compares two versions: the leading numeric parts as numbers, then a
/// pre-release below the plain release, then the text.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let numbers = |v: &str| -> Vec<u64> {
        let core = v.split('+').next().unwrap_or(v);
        core.split(['.', '-'])
            .map_while(|part| part.parse::<u64>().ok())
            .collect()
    };
    numbers(a)
        .cmp(&numbers(b))
        .then_with(|| is_prerelease(b).cmp(&is_prerelease(a)))
        .then_with(|| a.cmp(b))
}

/// The latest of `versions`: the greatest release, or the greatest
/// pre-release when there is no release.
pub(crate) fn latest<'a>(
    versions: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    let releases = versions.clone().filter(|v| !is_prerelease(v));
    releases
        .max_by(|a, b| compare(a, b))
        .or_else(|| versions.max_by(|a, b| compare(a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_greatest_release() {
        let versions = ["1.9.0", "1.10.0", "2.0.0-beta.1", "1.10.0rc1"];
        assert_eq!(latest(versions.iter().copied()), Some("1.10.0"));
        assert_eq!(latest(["1.0a1", "1.0a2"].iter().copied()), Some("1.0a2"));
    }
}
