//! What a package's metadata says, as the metadata rules read it.

use std::time::SystemTime;

use cordon_package::Package;
use cordon_registry::RegistryMeta;
use cordon_report::{PackageReport, Verdict};
use cordon_scan::{DirectSource, Engine, PackageFacts, RegistryFacts};

use crate::ignore::{self, Ignore};

/// The facts of a package as read from its own files: name, version,
/// main manifest and dependencies fetched from outside a registry. The
/// registry's own metadata, when the package came from one, is added by
/// the caller.
pub(crate) fn package_facts(package: &Package) -> PackageFacts<'_> {
    let metadata = &package.metadata;
    let direct_dependencies = metadata
        .direct_dependencies
        .iter()
        .map(|d| DirectSource {
            name: &d.name,
            source: &d.source,
            manifest: &d.manifest,
        })
        .collect();
    PackageFacts {
        ecosystem: package.ecosystem,
        name: package.name.as_deref(),
        version: package.version.as_deref(),
        manifest: metadata.manifests.first().map_or("", String::as_str),
        direct_dependencies,
        registry: None,
    }
}

/// What a registry said about a package, for the metadata rules, with
/// its age counted up to `now`.
pub(crate) fn registry_facts(
    meta: &RegistryMeta,
    now: SystemTime,
) -> RegistryFacts {
    let today = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let published = meta.published.as_deref().and_then(days_since_epoch);
    RegistryFacts {
        age_days: published.map(|day| today.saturating_sub(day)),
        versions: meta.versions,
        maintainers: meta.maintainers,
        repository: meta.repository,
        install_scripts: !meta.install_scripts.is_empty(),
    }
}

/// Adds the findings of what the registry said about a package to its
/// report, with the user's suppressions, and scores it again.
pub(crate) fn add_registry_findings(
    engine: &Engine,
    ignores: &[Ignore],
    report: &mut PackageReport,
    package: &Package,
    meta: &RegistryMeta,
) {
    let manifests = &package.metadata.manifests;
    let facts = PackageFacts {
        manifest: manifests.first().map_or("", String::as_str),
        registry: Some(registry_facts(meta, SystemTime::now())),
        ..PackageFacts::default()
    };
    let mut findings = engine.metadata_findings(&facts);
    if findings.is_empty() {
        return;
    }
    report.suppressed += ignore::apply(ignores, &mut findings);
    report.findings.extend(findings);
    report.findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule)
            .cmp(&(&b.path, b.line, b.column, &b.rule))
    });
    let (score, verdict) = engine.score(&report.findings);
    report.score = score;
    report.verdict = Some(verdict);
    report.summary = match verdict {
        Verdict::Clean => None,
        _ => engine.explain(&report.findings),
    };
}

/// The day since 1970-01-01 of an RFC 3339 time (`2026-01-02T03:04Z`),
/// from its date alone.
fn days_since_epoch(time: &str) -> Option<u64> {
    let date = time.get(..10)?;
    let mut parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil, counting years from March so that the leap day
    // comes last.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    u64::try_from(era * 146_097 + day_of_era - 719_468).ok()
}

#[cfg(test)]
mod tests {
    use cordon_package::{DirectDependency, Format, Metadata};
    use cordon_report::Ecosystem;
    use cordon_scan::Engine;

    use super::*;

    fn package(name: &str, direct: Vec<DirectDependency>) -> Package {
        Package {
            ecosystem: Some(Ecosystem::Npm),
            name: Some(name.into()),
            version: Some("1.0.0".into()),
            format: Format::Directory,
            files: Vec::new(),
            anomalies: Vec::new(),
            metadata: Metadata {
                manifests: vec!["package/package.json".into()],
                direct_dependencies: direct,
                ..Metadata::default()
            },
        }
    }

    #[test]
    fn a_package_s_own_metadata_becomes_findings() {
        let engine = Engine::builtin().unwrap();
        let direct = vec![DirectDependency {
            name: "x".into(),
            source: "github:owner/x".into(),
            manifest: "package/package.json".into(),
        }];
        let squat = package("lodahs", direct);

        let findings = engine.metadata_findings(&package_facts(&squat));

        let rules: Vec<_> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["meta-direct-dependency", "meta-typosquat"]);
        assert!(findings.iter().all(|f| f.path == "package/package.json"));
    }

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(days_since_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(days_since_epoch("2000-03-01"), Some(11_017));
        assert_eq!(days_since_epoch("2026-01-02T03:04:05.000Z"), Some(20_455));
        assert_eq!(days_since_epoch("yesterday"), None);
        assert_eq!(days_since_epoch("2026-13-01"), None);
    }

    #[test]
    fn a_new_package_from_the_registry_is_a_finding_and_an_old_one_not() {
        let engine = Engine::builtin().unwrap();
        let now = SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(20_457 * 86_400);
        let meta = RegistryMeta {
            published: Some("2026-01-02T03:04:05.000Z".into()),
            versions: Some(1),
            maintainers: Some(2),
            repository: Some(true),
            ..RegistryMeta::default()
        };
        let facts = registry_facts(&meta, now);
        assert_eq!(facts.age_days, Some(2));
        let new =
            PackageFacts { registry: Some(facts), ..PackageFacts::default() };
        let findings = engine.metadata_findings(&new);
        let rules: Vec<_> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["meta-new-package"]);

        let mut old = meta.clone();
        old.published = Some("2025-01-02T00:00:00Z".into());
        let old = PackageFacts {
            registry: Some(registry_facts(&old, now)),
            ..PackageFacts::default()
        };
        assert!(engine.metadata_findings(&old).is_empty());
    }

    #[test]
    fn registry_findings_join_the_report_and_its_score() {
        let engine = Engine::builtin().unwrap();
        let package = package("zz-cordon-widget", Vec::new());
        let mut report =
            PackageReport::failed("npm:zz-cordon-widget", "".into());
        report.error = None;
        report.verdict = Some(Verdict::Clean);
        let meta = RegistryMeta {
            published: Some("2999-01-01T00:00:00Z".into()),
            versions: Some(1),
            maintainers: Some(1),
            repository: Some(false),
            ..RegistryMeta::default()
        };

        add_registry_findings(&engine, &[], &mut report, &package, &meta);

        let rules: Vec<_> =
            report.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "meta-new-package",
                "meta-no-repository",
                "meta-single-maintainer"
            ]
        );
        assert_eq!(report.findings[0].path, "package/package.json");
        assert_eq!((report.score, report.verdict), (1, Some(Verdict::Clean)));
    }

    #[test]
    fn a_popular_package_without_odd_metadata_has_none() {
        let engine = Engine::builtin().unwrap();
        let honest = package("lodash", Vec::new());
        assert!(engine.metadata_findings(&package_facts(&honest)).is_empty());
    }
}
