//! crates.io: the sparse index at `{index}/{prefix}/{name}` (one JSON
//! object per version and line) and the `.crate` file at
//! `{download}/{name}/{name}-{version}.crate`, checked against `cksum`.

use serde::Deserialize;

use crate::{
    Algorithm, Client, Digest, Ecosystem, Error, RegistryMeta, Resolved, Spec,
    version,
};

#[derive(Deserialize)]
struct Entry {
    name: String,
    vers: String,
    cksum: String,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    pubtime: Option<String>,
}

/// Finds a crate's file in the sparse index.
pub(crate) fn resolve(
    client: &Client,
    spec: &Spec,
) -> Result<Resolved, Error> {
    let registries = &client.options.registries;
    let url = crate::join(&registries.crates_index, &index_path(&spec.name));
    let bytes = client.get(spec, &url, None)?;
    let entries = parse_index(spec, &url, &bytes)?;

    let entry = choose(spec, &url, &entries, client.options.allow_yanked)?;
    let file_name = format!("{}-{}.crate", entry.name, entry.vers);
    let path = format!("{}/{file_name}", entry.name);
    let file_url = crate::join(&registries.crates_download, &path);
    let digests: Vec<Digest> =
        Digest::from_hex(Algorithm::Sha256, &entry.cksum)
            .into_iter()
            .collect();

    Ok(Resolved {
        spec: spec.clone(),
        ecosystem: Ecosystem::Crates,
        name: entry.name.clone(),
        version: entry.vers.clone(),
        file_name,
        url: file_url,
        digests,
        meta: RegistryMeta {
            published: entry.pubtime.clone(),
            yanked: entry.yanked,
            versions: Some(entries.len()),
            ..RegistryMeta::default()
        },
    })
}

/// The index path of a crate: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`,
/// lowercase.
pub(crate) fn index_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

fn parse_index(
    spec: &Spec,
    url: &str,
    bytes: &[u8],
) -> Result<Vec<Entry>, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::Metadata {
        package: spec.to_string(),
        url: url.to_string(),
        reason: "the index file is not utf-8".to_string(),
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|err| Error::Metadata {
                package: spec.to_string(),
                url: url.to_string(),
                reason: format!("line {}: {err}", index + 1),
            })
        })
        .collect()
}

fn choose<'a>(
    spec: &Spec,
    url: &str,
    entries: &'a [Entry],
    allow_yanked: bool,
) -> Result<&'a Entry, Error> {
    let package = spec.to_string();
    let url = url.to_string();
    let Some(wanted) = &spec.version else {
        let live = entries.iter().filter(|e| !e.yanked);
        let latest = version::latest(live.map(|e| e.vers.as_str()));
        return entries
            .iter()
            .find(|e| Some(e.vers.as_str()) == latest)
            .ok_or(Error::NoSuchVersion { package, url });
    };
    match entries.iter().find(|e| &e.vers == wanted) {
        None => Err(Error::NoSuchVersion { package, url }),
        Some(entry) if entry.yanked && !allow_yanked => {
            Err(Error::Yanked { package, url })
        }
        Some(entry) => Ok(entry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_the_prefix_rules() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde"), "se/rd/serde");
    }
}
