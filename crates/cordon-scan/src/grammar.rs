//! The tree-sitter grammars cordon parses with, and which one reads
//! which file.

use cordon_report::Language;

/// A tree-sitter grammar compiled into cordon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Grammar {
    /// Python 3.
    Python,
    /// JavaScript, with JSX.
    JavaScript,
    /// TypeScript without JSX (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
    /// Bash, which also reads POSIX shell.
    Bash,
    /// Rust.
    Rust,
}

impl Grammar {
    /// The grammars a query written for `language` is compiled for.
    /// TypeScript needs two: `.ts` and `.tsx` files parse differently.
    pub(crate) fn for_language(language: Language) -> &'static [Grammar] {
        match language {
            Language::Python => &[Grammar::Python],
            Language::JavaScript => &[Grammar::JavaScript],
            Language::TypeScript => &[Grammar::TypeScript, Grammar::Tsx],
            Language::Shell => &[Grammar::Bash],
            Language::Rust => &[Grammar::Rust],
            _ => &[],
        }
    }

    /// The grammar that parses a file of `language` at `path`.
    pub(crate) fn for_file(language: Language, path: &str) -> Option<Grammar> {
        match language {
            Language::TypeScript if path.ends_with(".tsx") => {
                Some(Grammar::Tsx)
            }
            _ => Grammar::for_language(language).first().copied(),
        }
    }

    /// The tree-sitter language behind the grammar.
    pub(crate) fn language(self) -> tree_sitter::Language {
        match self {
            Grammar::Python => tree_sitter_python::LANGUAGE.into(),
            Grammar::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Grammar::TypeScript => {
                tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()
            }
            Grammar::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Grammar::Bash => tree_sitter_bash::LANGUAGE.into(),
            Grammar::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }

    /// A short name for log messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Grammar::Python => "python",
            Grammar::JavaScript => "javascript",
            Grammar::TypeScript => "typescript",
            Grammar::Tsx => "tsx",
            Grammar::Bash => "bash",
            Grammar::Rust => "rust",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsx_files_get_the_tsx_grammar() {
        let ts = Language::TypeScript;
        assert_eq!(Grammar::for_file(ts, "src/a.tsx"), Some(Grammar::Tsx));
        assert_eq!(
            Grammar::for_file(ts, "src/a.ts"),
            Some(Grammar::TypeScript)
        );
        assert_eq!(Grammar::for_file(Language::Json, "package.json"), None);
    }

    #[test]
    fn every_grammar_loads_into_a_parser() {
        let all = [
            Grammar::Python,
            Grammar::JavaScript,
            Grammar::TypeScript,
            Grammar::Tsx,
            Grammar::Bash,
            Grammar::Rust,
        ];
        for grammar in all {
            let mut parser = tree_sitter::Parser::new();
            assert!(
                parser.set_language(&grammar.language()).is_ok(),
                "{}",
                grammar.name()
            );
        }
    }
}
