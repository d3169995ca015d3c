//! The user's own rules for `cordon scan`: rule files in cordon's TOML
//! format (`--rules`), added to the built-in pack, and YARA rules
//! (`--yara`), compiled with yara-x when this build has the `yara`
//! feature.
//!
//! Each path is a file, used whatever its name, or a directory, whose
//! files with the right extension (`.toml`; `.yar` or `.yara`) are read
//! in name order; its subdirectories are not. Every rule is compiled
//! before anything is scanned, and a mistake is an error that names the
//! file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cordon_package::Package;
use cordon_report::{Finding, RuleInfo};
use cordon_scan::{Engine, RuleSource};

/// The extensions of cordon's rule files in a `--rules` directory.
pub const RULE_EXTENSIONS: &[&str] = &["toml"];

/// The extensions of YARA rule files in a `--yara` directory.
pub const YARA_EXTENSIONS: &[&str] = &["yar", "yara"];

/// The rules of one run: the built-in pack with the user's rule files,
/// the user's YARA rules, and the texts of every user file, which the
/// scan cache fingerprints.
pub struct UserRules {
    /// The built-in pack and the `--rules` files.
    pub engine: Engine,
    /// The `--yara` rules; none when not given.
    pub yara: Yara,
    /// The text of every user rule file, TOML first, then YARA.
    pub texts: Vec<String>,
}

impl UserRules {
    /// Reads and compiles the rule files at `rules` (cordon's format)
    /// and `yara` (YARA).
    pub fn load(rules: &[PathBuf], yara: &[PathBuf]) -> anyhow::Result<Self> {
        let toml = read_sources("--rules", rules, RULE_EXTENSIONS)?;
        let yara_sources = read_sources("--yara", yara, YARA_EXTENSIONS)?;
        let engine = if toml.is_empty() {
            Engine::builtin().context("cannot load the built-in rules")?
        } else {
            Engine::from_sources(&toml)
                .context("cannot load the rule files of --rules")?
        };
        let yara = Yara::compile(&yara_sources)?;
        let texts = toml.into_iter().chain(yara_sources).map(|s| s.text);
        Ok(UserRules { engine, yara, texts: texts.collect() })
    }

    /// What renderers need to know about every rule, built-in, the
    /// user's, and YARA.
    pub fn rule_infos(&self) -> Vec<RuleInfo> {
        let mut infos = self.engine.rule_infos();
        infos.extend(self.yara.rule_infos());
        infos
    }

    /// The ids of the YARA rules, which `--ignore` may name.
    pub fn yara_ids(&self) -> Vec<String> {
        self.yara.rule_infos().into_iter().map(|info| info.id).collect()
    }
}

/// Reads the rule files at `paths`, each a file or a directory of files
/// with one of `extensions`, in name order. `flag` names the option in
/// errors.
pub fn read_sources(
    flag: &str,
    paths: &[PathBuf],
    extensions: &[&str],
) -> anyhow::Result<Vec<RuleSource>> {
    let mut sources = Vec::new();
    for path in paths {
        for file in rule_files(flag, path, extensions)? {
            let text = std::fs::read_to_string(&file).with_context(|| {
                format!("{flag}: cannot read `{}`", file.display())
            })?;
            sources.push(RuleSource::new(file.display().to_string(), text));
        }
    }
    Ok(sources)
}

/// `path` itself when it is a file; else the files of the directory
/// `path` with one of `extensions`, sorted by name.
fn rule_files(
    flag: &str,
    path: &Path,
    extensions: &[&str],
) -> anyhow::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).with_context(|| {
        format!("{flag}: cannot read `{}`", path.display())
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).with_context(|| {
        format!("{flag}: cannot list `{}`", path.display())
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| {
            format!("{flag}: cannot list `{}`", path.display())
        })?;
        let file = entry.path();
        let wanted = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e));
        if wanted && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        let names: Vec<String> =
            extensions.iter().map(|e| format!(".{e}")).collect();
        bail!(
            "{flag}: no {} file in the directory `{}`",
            names.join(" or "),
            path.display()
        );
    }
    files.sort();
    Ok(files)
}

/// The user's YARA rules, or none.
pub struct Yara {
    #[cfg(feature = "yara")]
    rules: Option<cordon_scan::YaraRules>,
}

#[cfg(feature = "yara")]
impl Yara {
    /// Compiles `sources`; no sources, no rules.
    pub fn compile(sources: &[RuleSource]) -> anyhow::Result<Yara> {
        if sources.is_empty() {
            return Ok(Yara { rules: None });
        }
        let rules = cordon_scan::YaraRules::compile(sources)?;
        Ok(Yara { rules: Some(rules) })
    }

    /// What renderers need to know about every public YARA rule.
    pub fn rule_infos(&self) -> Vec<RuleInfo> {
        self.rules.as_ref().map_or_else(Vec::new, |r| r.rule_infos().to_vec())
    }

    /// The findings of the YARA rules in every file of `package`.
    pub fn scan(&self, package: &Package) -> Vec<Finding> {
        let Some(rules) = &self.rules else { return Vec::new() };
        let files: Vec<cordon_scan::ScanFile<'_>> = package
            .files
            .iter()
            .map(|file| cordon_scan::ScanFile {
                path: &file.path,
                language: file.language,
                role: file.role,
                data: &file.data,
            })
            .collect();
        rules.scan_files(&files)
    }
}

#[cfg(not(feature = "yara"))]
impl Yara {
    /// No rules; an error when there are sources, since this build
    /// cannot compile them.
    pub fn compile(sources: &[RuleSource]) -> anyhow::Result<Yara> {
        if let Some(first) = sources.first() {
            bail!(
                "--yara {}: this build of cordon has no YARA support (it \
                 was built without the `yara` feature)",
                first.name
            );
        }
        Ok(Yara {})
    }

    /// No rules, no infos.
    pub fn rule_infos(&self) -> Vec<RuleInfo> {
        Vec::new()
    }

    /// No rules, no findings.
    pub fn scan(&self, _package: &Package) -> Vec<Finding> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gives_its_rule_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yara", "a.yar", "c.txt", "sub.yar/x.yar"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, name).unwrap();
        }
        let paths = [dir.path().to_path_buf()];

        let sources = read_sources("--yara", &paths, YARA_EXTENSIONS).unwrap();

        let texts: Vec<_> = sources.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["a.yar", "b.yara"]);
    }

    #[test]
    fn an_empty_directory_or_a_missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = [dir.path().to_path_buf()];
        let err = read_sources("--rules", &empty, RULE_EXTENSIONS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--rules") && err.contains(".toml"), "{err}");

        let missing = [dir.path().join("nope.yar")];
        let err = format!(
            "{:#}",
            read_sources("--yara", &missing, YARA_EXTENSIONS).unwrap_err()
        );
        assert!(err.contains("nope.yar"), "{err}");
    }
}
