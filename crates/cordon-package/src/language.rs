//! What language a file is written in: by extension, then by shebang,
//! then text or binary by content.
//!
//! Languages cordon has no rules for (C, Go, HTML...) are plain
//! [`Language::Text`].

pub use cordon_report::Language;

/// How much of a file is looked at to tell text from binary.
const SNIFF_LEN: usize = 8192;

/// The language of the file at `path` holding `data`.
pub fn detect(path: &str, data: &[u8]) -> Language {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(language) = by_name(name) {
        return language;
    }
    if let Some(language) = by_shebang(data) {
        return language;
    }
    let head = data.get(..SNIFF_LEN).unwrap_or(data);
    match head.contains(&0) {
        true => Language::Binary,
        false => Language::Text,
    }
}

/// The language a file name implies: its extension or a well-known name.
fn by_name(name: &str) -> Option<Language> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "rakefile" | "gemfile" => return Some(Language::Ruby),
        _ => {}
    }
    let (_, extension) = lower.rsplit_once('.')?;
    let language = match extension {
        "py" | "pyw" | "pyi" | "pth" => Language::Python,
        "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
        "ts" | "mts" | "cts" | "tsx" => Language::TypeScript,
        "sh" | "bash" | "zsh" | "ksh" => Language::Shell,
        "rs" => Language::Rust,
        "rb" | "rake" | "gemspec" => Language::Ruby,
        "ps1" | "psm1" | "psd1" => Language::PowerShell,
        "bat" | "cmd" => Language::Batch,
        "json" => Language::Json,
        "toml" => Language::Toml,
        "yml" | "yaml" => Language::Yaml,
        "md" | "markdown" | "rst" => Language::Markdown,
        _ => return None,
    };
    Some(language)
}

/// The language of the interpreter a `#!` line names.
fn by_shebang(data: &[u8]) -> Option<Language> {
    let rest = data.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line.get(..256).unwrap_or(line));
    let mut words = line.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|word| !word.starts_with('-'))?;
    }
    interpreter(
        program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'),
    )
}

/// The language of an interpreter, version suffix removed.
fn interpreter(program: &str) -> Option<Language> {
    let language = match program {
        "python" | "pypy" => Language::Python,
        "node" | "nodejs" | "deno" | "bun" => Language::JavaScript,
        "ts-node" | "tsx" => Language::TypeScript,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "busybox" => {
            Language::Shell
        }
        "ruby" => Language::Ruby,
        "pwsh" | "powershell" => Language::PowerShell,
        _ => return None,
    };
    Some(language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_decide_first() {
        assert_eq!(detect("a/b.py", b""), Language::Python);
        assert_eq!(detect("x.PTH", b"import os"), Language::Python);
        assert_eq!(detect("index.mjs", b""), Language::JavaScript);
        assert_eq!(detect("Rakefile", b""), Language::Ruby);
        assert_eq!(detect("run.PS1", b""), Language::PowerShell);
    }

    #[test]
    fn shebangs_name_the_interpreter() {
        let cases: [(&[u8], Language); 5] = [
            (b"#!/usr/bin/env python3\n", Language::Python),
            (b"#!/usr/bin/python3.12 -u\n", Language::Python),
            (b"#!/usr/bin/env -S node --no-warnings\n", Language::JavaScript),
            (b"#! /bin/bash\necho\n", Language::Shell),
            (b"#!/bin/sh", Language::Shell),
        ];
        for (data, language) in cases {
            assert_eq!(detect("bin/tool", data), language, "{data:?}");
        }
    }

    #[test]
    fn content_tells_text_from_binary() {
        assert_eq!(detect("LICENSE", b"MIT"), Language::Text);
        assert_eq!(detect("lib.so", b"\x7fELF\x02\x01\x00"), Language::Binary);
        assert_eq!(detect("x.unknown", b"#!/opt/weird\n"), Language::Text);
    }
}
