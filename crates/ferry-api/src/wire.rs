//! IPC wire types shared by the desktop shell (`src-tauri`) and the UI (`ui/`).
//!
//! They are plain serde structs in camelCase; `ts-rs` generates the TypeScript declarations in
//! `ui/src/bindings/` from them. The test `bindings_are_current` fails when the committed bindings
//! drift from these types; `scripts/gen-bindings.sh` rewrites them. Keeping the types here (and not
//! in the Tauri crate) lets the engine build and test them without Tauri.

use serde::{Deserialize, Serialize};
use std::path::Path;
use ts_rs::TS;

pub use crate::wire_release::*;

/// What the window shows in its masthead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EngineInfo {
    pub version: String,
}

/// The stable error codes the UI branches on (the same strings as `ferry_types::ErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    InvalidConfig,
    InvalidReference,
    NotFound,
    Unauthorized,
    Denied,
    Tls,
    Unreachable,
    DigestMismatch,
    Io,
    Registry,
    Archive,
    Sequence,
    NoSpace,
    Cancelled,
    Internal,
}

impl From<ferry_types::ErrorCode> for ErrorCode {
    fn from(c: ferry_types::ErrorCode) -> Self {
        use ferry_types::ErrorCode as E;
        // Exhaustive on purpose: a new engine code must get a wire code (and a UI branch).
        match c {
            E::InvalidConfig => ErrorCode::InvalidConfig,
            E::InvalidReference => ErrorCode::InvalidReference,
            E::NotFound => ErrorCode::NotFound,
            E::Unauthorized => ErrorCode::Unauthorized,
            E::Denied => ErrorCode::Denied,
            E::Tls => ErrorCode::Tls,
            E::Unreachable => ErrorCode::Unreachable,
            E::DigestMismatch => ErrorCode::DigestMismatch,
            E::Io => ErrorCode::Io,
            E::Registry => ErrorCode::Registry,
            E::Archive => ErrorCode::Archive,
            E::Sequence => ErrorCode::Sequence,
            E::NoSpace => ErrorCode::NoSpace,
            E::Cancelled => ErrorCode::Cancelled,
            E::Internal => ErrorCode::Internal,
        }
    }
}

/// Every command's error as it crosses IPC: `{code, message}`. The message is the engine's full
/// text (what went wrong and what to do); the code picks the UI's recovery action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<ferry_types::Error> for WireError {
    /// Query strings are stripped from the message: an error may quote a pre-signed storage
    /// URL, and the UI shows, copies and logs what it gets.
    fn from(e: ferry_types::Error) -> Self {
        WireError {
            code: e.code().into(),
            message: ferry_types::redact_query_strings(&e.to_string()),
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How bad a configuration finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding of the image-set validation, placed in the YAML (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// The field path, for example `mirror.operators[0].catalog`.
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub severity: Severity,
}

/// A folder the user picked as export destination or import source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FolderInfo {
    pub path: String,
    pub exists: bool,
    pub writable: bool,
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// Where an image in a plan comes from (the image set section that asked for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    Release,
    Operator,
    Helm,
    Additional,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanImage {
    pub source: String,
    pub destination: String,
    pub digest: Option<String>,
    /// Total bytes of the image's blobs when the plan resolved them.
    pub bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanGroup {
    pub kind: SourceKind,
    pub images: Vec<PlanImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BlockedImage {
    pub image: String,
    /// The `blockedImages` entry that matched.
    pub pattern: String,
}

/// The dry run: what would be mirrored and whether it fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    pub groups: Vec<PlanGroup>,
    pub blocked: Vec<BlockedImage>,
    pub total_bytes: u64,
    /// `archiveSize` from the image set, in bytes (None: one part).
    pub archive_size_bytes: Option<u64>,
    pub parts: u32,
    /// Set when a destination folder was given.
    pub destination: Option<FolderInfo>,
    pub fits: Option<bool>,
    /// The releases of `mirror.platform` with sizes and signature status (wire_release.rs).
    pub releases: Vec<PlanRelease>,
}

/// The three long-running workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum JobKind {
    MirrorToDisk,
    DiskToMirror,
    MirrorToMirror,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ImageState {
    Queued,
    Copying,
    Done,
    UpToDate,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImageProgress {
    pub image: String,
    pub state: ImageState,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub message: Option<String>,
}

/// One archive part being written (export) or read (import).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PartProgress {
    pub name: String,
    pub bytes_done: u64,
    /// The part's size when known (an import reads parts of known size; an export's part grows).
    pub bytes_total: Option<u64>,
    pub done: bool,
}

/// A throttled snapshot of a job (the shell sends at most about ten a second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JobProgress {
    pub job_id: String,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub bytes_per_sec: u64,
    pub eta_secs: Option<u64>,
    pub images_done: u32,
    pub images_total: u32,
    pub images: Vec<ImageProgress>,
    pub parts: Vec<PartProgress>,
}

/// A part of the archive on the media, with its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PartInfo {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FailedImage {
    pub image: String,
    pub error: WireError,
}

/// What a finished job did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub job_id: String,
    pub kind: JobKind,
    /// The archive sequence written (export) or imported (import); None for mirror-to-mirror.
    pub sequence: Option<u32>,
    pub images_copied: u32,
    pub images_up_to_date: u32,
    pub failed: Vec<FailedImage>,
    pub bytes: u64,
    pub elapsed_secs: u64,
    pub parts: Vec<PartInfo>,
    /// The folder holding mapping.txt, ICSP/IDMS/ITMS and the other results (imports, mirrors).
    pub results_dir: Option<String>,
}

/// What flows on a job's progress channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum JobEvent {
    Progress(JobProgress),
    Finished(JobSummary),
    Failed(WireError),
}

/// The kinds of result files a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ResultKind {
    Mapping,
    Icsp,
    Idms,
    Itms,
    CatalogSource,
    UpdateService,
    Signature,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ResultFile {
    pub kind: ResultKind,
    pub name: String,
    pub path: String,
    pub content: String,
}

/// The results folder of a run, ready to view, copy, save and apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ResultsView {
    pub dir: String,
    pub files: Vec<ResultFile>,
    /// The command for OpenShift 4.13 and later (IDMS, ITMS and the other cluster resources),
    /// or a `#` note when the folder holds nothing to apply.
    pub apply_command: String,
    /// `oc apply` for OpenShift 4.13 and later (IDMS + ITMS + other resources; never the ICSP
    /// when an IDMS exists).
    pub apply_from_4_13: Option<String>,
    /// `oc apply` for clusters before 4.13 (ICSP + other resources; never IDMS/ITMS).
    pub apply_before_4_13: Option<String>,
}

/// One archive part found on the media during verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MediaPart {
    pub name: String,
    pub bytes: u64,
    /// False when the part is missing from the media.
    pub present: bool,
    /// None until the checksum was compared.
    pub checksum_ok: Option<bool>,
}

/// What the import screen learns from the media before pushing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MediaReport {
    pub folder: String,
    pub sequence: Option<u32>,
    pub parts: Vec<MediaPart>,
    pub images: Vec<String>,
    /// Problems that block the import, each saying what to do.
    pub problems: Vec<String>,
}

/// A registry login the app knows (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistryLogin {
    pub registry: String,
    pub username: String,
    /// Where it comes from: a pull secret, the keyring, an auth file.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TrustSettings {
    pub registry: String,
    pub ca_bundle: Option<String>,
    pub skip_tls_verify: bool,
    /// Talk plain HTTP (a test registry on loopback, for example).
    pub plain_http: bool,
}

/// One past run, for the History screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub id: String,
    pub kind: JobKind,
    /// The storage backend (a folder or a registry) the metadata lives in.
    pub backend: String,
    pub sequence: Option<u32>,
    pub started_at: String,
    pub images: u32,
    pub bytes: u64,
    pub outcome: String,
}

/// Writes the TypeScript declarations of every wire type into `dir` (one `.ts` file per type).
/// u64 fields become `number`: JSON carries them as numbers and no size here reaches 2^53.
pub fn export_bindings(dir: &Path) -> Result<(), ts_rs::ExportError> {
    let cfg = ts_rs::Config::new().with_out_dir(dir).with_large_int("number");
    EngineInfo::export_all(&cfg)?;
    WireError::export_all(&cfg)?;
    Diagnostic::export_all(&cfg)?;
    PlanSummary::export_all(&cfg)?;
    JobEvent::export_all(&cfg)?;
    JobKind::export_all(&cfg)?;
    ResultsView::export_all(&cfg)?;
    MediaReport::export_all(&cfg)?;
    RegistryLogin::export_all(&cfg)?;
    TrustSettings::export_all(&cfg)?;
    HistoryEntry::export_all(&cfg)?;
    crate::wire_helm::HelmRepoIndex::export_all(&cfg)?;
    crate::wire_helm::HelmLocalChart::export_all(&cfg)?;
    crate::wire_helm::ChartPlanView::export_all(&cfg)?;
    crate::wire_helm::PrunePreview::export_all(&cfg)?;
    crate::preflight::PreflightRequest::export_all(&cfg)?;
    crate::preflight::PreflightReport::export_all(&cfg)?;
    crate::wire_catalog::CatalogView::export_all(&cfg)?;
    crate::wire_catalog::CatalogPackageView::export_all(&cfg)?;
    crate::wire_catalog::CatalogPreview::export_all(&cfg)?;
    ReleaseGraphRequest::export_all(&cfg)?;
    ReleaseGraphView::export_all(&cfg)?;
    ReleaseSignatureRow::export_all(&cfg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn read_dir_ts(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".ts") {
                    out.insert(name, std::fs::read_to_string(e.path()).unwrap());
                }
            }
        }
        out
    }

    /// CI's drift check: the committed `ui/src/bindings` must equal what these types generate.
    /// `FERRY_UPDATE_BINDINGS=1` rewrites them instead (scripts/gen-bindings.sh does that).
    #[test]
    fn bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings");
        let fresh = std::env::temp_dir().join(format!("ferry-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        export_bindings(&fresh).unwrap();
        let generated = read_dir_ts(&fresh);
        let _ = std::fs::remove_dir_all(&fresh);
        assert!(
            generated.len() >= 20,
            "expected every wire type exported, got {:?}",
            generated.keys()
        );

        if std::env::var_os("FERRY_UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            std::fs::create_dir_all(&committed).unwrap();
            for (name, text) in &generated {
                std::fs::write(committed.join(name), text).unwrap();
            }
            return;
        }
        let on_disk = read_dir_ts(&committed);
        let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&on_disk),
            names(&generated),
            "ui/src/bindings lists other types than crates/ferry-api/src/wire.rs; run scripts/gen-bindings.sh"
        );
        for (name, text) in &generated {
            assert_eq!(
                &on_disk[name], text,
                "ui/src/bindings/{name} is stale; run scripts/gen-bindings.sh and commit the result"
            );
        }
    }

    #[test]
    fn errors_cross_as_code_and_message() {
        let e = ferry_types::Error::NoSpace {
            path: "/media/usb".into(),
            needed: 10,
            available: 3,
        };
        let w = WireError::from(e);
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v["code"], "no-space");
        assert!(v["message"].as_str().unwrap().contains("/media/usb"), "{v}");
        // The wire code string equals the engine's own serialization for every code.
        for c in [
            ferry_types::ErrorCode::InvalidConfig,
            ferry_types::ErrorCode::DigestMismatch,
            ferry_types::ErrorCode::NoSpace,
            ferry_types::ErrorCode::Cancelled,
        ] {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::to_value(ErrorCode::from(c)).unwrap()
            );
        }
    }

    #[test]
    fn job_events_are_tagged_for_the_ui() {
        let ev = JobEvent::Failed(WireError {
            code: ErrorCode::Cancelled,
            message: "cancelled".into(),
        });
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["event"], "failed");
        assert_eq!(v["data"]["code"], "cancelled");
    }
}
