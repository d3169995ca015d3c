//! The part of the SARIF 2.1.0 object model that cordon writes, as serde
//! types.
//!
//! Each type is named after the SARIF object it stands for and lists only
//! the properties cordon fills; the names of fields follow SARIF's
//! camelCase on the wire. Optional properties that are unset are left out
//! rather than written as `null`, which the schema would reject. Property
//! bags carry what SARIF has no place for.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// The SARIF version this model follows.
pub const SARIF_VERSION: &str = "2.1.0";

/// The official schema of [`SARIF_VERSION`], written as `$schema`.
pub const SARIF_SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/\
v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// A whole SARIF log file (`sarifLog`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Log {
    /// Always [`SARIF_SCHEMA`].
    #[serde(rename = "$schema")]
    pub schema: String,
    /// Always [`SARIF_VERSION`].
    pub version: String,
    /// The runs; cordon writes one.
    pub runs: Vec<Run>,
}

/// One run of one tool (`run`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The tool and its rules.
    pub tool: Tool,
    /// How the run went; cordon writes one invocation.
    pub invocations: Vec<Invocation>,
    /// The unit of `startColumn`.
    pub column_kind: ColumnKind,
    /// The results, one per finding.
    pub results: Vec<SarifResult>,
}

/// How columns are counted (`run.columnKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ColumnKind {
    /// In Unicode code points, as cordon counts them.
    UnicodeCodePoints,
    /// In UTF-16 code units.
    Utf16CodeUnits,
}

/// The analysis tool (`tool`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tool {
    /// The tool itself, as opposed to its extensions.
    pub driver: ToolComponent,
}

/// A tool, or a part of one (`toolComponent`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolComponent {
    /// The tool's name.
    pub name: String,
    /// The tool's version, as the tool writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// An absolute URI with more about the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub information_uri: Option<String>,
    /// The rules the tool can report; results point into this array.
    pub rules: Vec<ReportingDescriptor>,
    /// The kinds of notification the tool can raise about itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<ReportingDescriptor>,
}

/// A rule, or a kind of notification (`reportingDescriptor`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    /// The stable id.
    pub id: String,
    /// One sentence saying what it reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_description: Option<MultiformatMessageString>,
    /// A longer description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_description: Option<MultiformatMessageString>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<MultiformatMessageString>,
    /// The level its results have unless configured otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_configuration: Option<ReportingConfiguration>,
    /// Anything else, such as tags and a security severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyBag>,
}

/// Text meant for people, in plain text (`multiformatMessageString`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MultiformatMessageString {
    /// The plain text.
    pub text: String,
}

/// How a rule reports by default (`reportingConfiguration`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportingConfiguration {
    /// The level of its results.
    pub level: Level,
}

/// How serious a result or notification is (`level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not a problem.
    None,
    /// Worth a look.
    Note,
    /// A problem.
    Warning,
    /// A serious problem.
    Error,
}

/// Open key/value pairs (`propertyBag`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PropertyBag {
    /// Distinct strings that classify the object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Every other property, by name.
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
}

/// How the tool ran (`invocation`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// Whether the tool did all it was asked to.
    pub execution_successful: bool,
    /// What went wrong, or is worth knowing, while it ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_execution_notifications: Vec<Notification>,
}

/// Something about the tool's own run rather than the code it scanned
/// (`notification`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// How serious it is.
    pub level: Level,
    /// What happened.
    pub message: Message,
    /// Where it happened.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Which kind of notification, in `driver.notifications`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<ReportingDescriptorReference>,
    /// Anything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyBag>,
}

/// A pointer to a rule or notification kind
/// (`reportingDescriptorReference`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportingDescriptorReference {
    /// The id it has.
    pub id: String,
    /// Its index in the array it belongs to.
    pub index: usize,
}

/// One finding (`result`); named so as not to shadow
/// [`std::result::Result`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    /// The id of the rule that matched.
    pub rule_id: String,
    /// The rule's index in `driver.rules`.
    pub rule_index: usize,
    /// How serious the result is.
    pub level: Level,
    /// What the rule saw.
    pub message: Message,
    /// What the tool was asked to scan: the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis_target: Option<ArtifactLocation>,
    /// Where the rule matched.
    pub locations: Vec<Location>,
    /// Anything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyBag>,
}

/// Text meant for people (`message`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// The plain text.
    pub text: String,
}

/// A place (`location`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// The file, and where in it.
    pub physical_location: PhysicalLocation,
}

/// A file and a region of it (`physicalLocation`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    /// The file.
    pub artifact_location: ArtifactLocation,
    /// Where in the file; absent when the place is the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A file or other artifact (`artifactLocation`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtifactLocation {
    /// A relative or absolute URI reference.
    pub uri: String,
}

/// A part of a file (`region`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// The 1-based line where the region starts.
    pub start_line: u32,
    /// The 1-based column where it starts, in the run's `columnKind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    /// The text at that place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<ArtifactContent>,
}

/// The content of a part of a file (`artifactContent`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtifactContent {
    /// The text.
    pub text: String,
}
