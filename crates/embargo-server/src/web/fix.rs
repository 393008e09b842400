//! The fix per branch on the case page: each branch's stage, the forms that move it,
//! private patches (uploaded or pasted) shown as a diff, and testing evidence.
//!
//! A patch is shown line by line, classed as added, removed or context and escaped as
//! text; characters that would hide or reorder what a line says are shown by their code
//! point (see `embargo_core::diff`).

use std::collections::HashMap;

use axum::extract::{Multipart, State as AxumState};
use axum::response::Response;
use embargo_core::diff::{self, LineKind};
use embargo_core::fix::{FixDetail, FixStage, TestingEvidence};
use embargo_core::reference::CaseRef;
use embargo_store::{FixBoard, Upload};
use maud::{Markup, html};

use crate::AppState;
use crate::web::PageError;
use crate::web::auth::Member;
use crate::web::layout::{self, short_time};

/// The largest upload of the page's file forms (a patch, or evidence files together).
pub const UPLOAD_LIMIT: usize = 12 * 1024 * 1024;
/// The largest single evidence file.
const EVIDENCE_FILE_LIMIT: usize = 10 * 1024 * 1024;

fn stage_word(stage: FixStage) -> &'static str {
    match stage {
        FixStage::NotAffected => "not affected",
        FixStage::Proposed => "proposed",
        FixStage::Merged => "merged",
        FixStage::Released => "released",
    }
}

fn given(form: &HashMap<String, String>, name: &str) -> Option<String> {
    form.get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Reads the stage form: the branch, the stage and what it records.
pub fn stage_from(form: &HashMap<String, String>) -> Result<(String, FixStage, FixDetail), String> {
    let branch = given(form, "fix_branch").ok_or("choose the branch")?;
    let stage = given(form, "fix_stage")
        .and_then(|s| FixStage::parse(&s))
        .ok_or("choose the stage the fix has reached")?;
    let detail = FixDetail {
        review_url: given(form, "fix_review"),
        commit: given(form, "fix_commit"),
        version: given(form, "fix_version"),
        note: given(form, "fix_note"),
        patch: None,
    };
    Ok((branch, stage, detail))
}

/// The case page's section.
pub fn section(
    r: &str,
    csrf: &str,
    board: &FixBoard,
    team: bool,
    open: bool,
    typed: &HashMap<String, String>,
) -> Markup {
    let t = |name: &str| typed.get(name).cloned().unwrap_or_default();
    let mut waits = Vec::new();
    if !board.open.is_empty() {
        waits.push(format!("the fix on {}", board.open.join(", ")));
    }
    if board.evidence.is_empty() {
        waits.push("testing evidence".to_owned());
    }
    html! {
        section #fix aria-labelledby="fix-h" {
            details.part open[open] {
            summary { h2 #fix-h { "Fix per branch" } }
            table.fixes {
                thead { tr { th scope="col" { "Branch" } th scope="col" { "Stage" } th scope="col" { "Details" } th scope="col" { "Recorded" } } }
                tbody {
                    @for b in &board.branches {
                        tr data-branch=(b.branch) {
                            th scope="row" { (b.branch) }
                            @match &b.current {
                                Some(c) => {
                                    td class={ "stage " (c.stage.as_str()) } { (stage_word(c.stage)) }
                                    td {
                                        @if let Some(commit) = &c.detail.commit { "commit " code { (commit) } " " }
                                        @if let Some(v) = &c.detail.version { "in " strong { (v) } " " }
                                        @if let Some(url) = &c.detail.review_url { "review: " (url) " " }
                                        @if let Some(p) = &c.detail.patch {
                                            a href={ "/desk/cases/" (r) "/files/" (p.file_id) } { "patch: " (p.subject) }
                                            @if p.patches > 1 { " (" (p.patches) " patches)" }
                                            " "
                                        }
                                        @if let Some(n) = &c.detail.note { span.note { (n) } }
                                    }
                                    td { (short_time(&c.at)) @if let Some(by) = &c.by { " by " (by) } }
                                },
                                None => {
                                    td.stage.open { "nothing yet" }
                                    td {}
                                    td {}
                                },
                            }
                        }
                    }
                }
            }
            p #fix-status {
                @if board.ready {
                    "Every branch is merged or not affected, and testing evidence is recorded: the fix is ready."
                } @else {
                    "Fix-ready waits for " (waits.join(" and ")) "."
                }
            }
            @if !board.evidence.is_empty() {
                h3 { "Testing evidence" }
                ul.evidence {
                    @for e in &board.evidence {
                        li { pre.text { (e.text) } span.meta { (short_time(&e.at)) @if let Some(by) = &e.by { " by " (by) } } }
                    }
                }
            }
            (files(r, board))
            @if team {
                details.fix-forms open[!typed.is_empty()] {
                    summary { "Record the fix" }
                    form.stack #fix-stage method="post" action={ "/desk/cases/" (r) "/fix" } {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="fix-branch" { "Branch" }
                        select #fix-branch name="fix_branch" { (branch_options(board, typed, "fix_branch")) }
                        label for="fix-stage-choice" { "Stage" }
                        select #fix-stage-choice name="fix_stage" {
                            @for s in FixStage::ALL { option value=(s.as_str()) selected[typed.get("fix_stage").map(String::as_str) == Some(s.as_str())] { (stage_word(s)) } }
                        }
                        label for="fix-commit" { "Commit id (merged)" }
                        input #fix-commit type="text" name="fix_commit" value=(t("fix_commit")) autocomplete="off";
                        label for="fix-version" { "Released in version (released)" }
                        input #fix-version type="text" name="fix_version" value=(t("fix_version"));
                        label for="fix-review" { "Private review link (proposed)" }
                        input #fix-review type="url" name="fix_review" value=(t("fix_review"));
                        label for="fix-note" { "Note" }
                        input #fix-note type="text" name="fix_note" value=(t("fix_note"));
                        button type="submit" { "Record the stage" }
                    }
                    (contribution_forms(r, csrf, board, typed))
                }
            }
            }
        }
    }
}

/// The fix's files: a patch opens as a diff, evidence downloads as it was given.
pub fn files(r: &str, board: &FixBoard) -> Markup {
    html! {
        @if !board.files.is_empty() {
            h3 { "Files" }
            ul.files {
                @for f in &board.files {
                    li {
                        @if f.purpose == "patch" { a href={ "/desk/cases/" (r) "/files/" (f.id) } { (f.filename) } }
                        @else { a href={ "/api/cases/" (r) "/files/" (f.id) } download { (f.filename) } }
                        " (" (f.purpose) ", " (f.size) " bytes" @if let Some(by) = &f.by { ", from " (by) } ")"
                    }
                }
            }
        }
    }
}

fn branch_options(board: &FixBoard, typed: &HashMap<String, String>, field: &str) -> Markup {
    html! {
        @for b in &board.branches {
            option value=(b.branch) selected[typed.get(field) == Some(&b.branch)] { (b.branch) }
        }
    }
}

/// The forms anyone who works on the fix may use, the team and the case's collaborators:
/// a private patch (uploaded or pasted) and testing evidence.
pub fn contribution_forms(
    r: &str,
    csrf: &str,
    board: &FixBoard,
    typed: &HashMap<String, String>,
) -> Markup {
    let t = |name: &str| typed.get(name).cloned().unwrap_or_default();
    html! {
        form.stack #fix-patch method="post" enctype="multipart/form-data" action={ "/desk/cases/" (r) "/upload/patch" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="patch-branch" { "Branch" }
            select #patch-branch name="branch" { (branch_options(board, typed, "branch")) }
            label for="patch-file" { "Private patch (git format-patch output or a diff)" }
            input #patch-file type="file" name="file" accept=".patch,.diff,.txt,text/plain,text/x-patch,text/x-diff";
            label for="patch-text" { "or paste it" }
            textarea #patch-text name="pasted" rows="4" spellcheck="false" { (t("pasted")) }
            label for="patch-note" { "Note" }
            input #patch-note type="text" name="note" value=(t("note"));
            button type="submit" { "Upload the patch" }
        }
        form.stack #fix-evidence method="post" enctype="multipart/form-data" action={ "/desk/cases/" (r) "/upload/evidence" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="evidence-text" { "Testing evidence: what was tested, and how" }
            textarea #evidence-text name="text" rows="3" { (t("text")) }
            label for="evidence-links" { "Links to runs or reviews (one per line)" }
            textarea #evidence-links name="links" rows="2" { (t("links")) }
            label for="evidence-files" { "Files (logs, reproductions)" }
            input #evidence-files type="file" name="file" multiple;
            button type="submit" { "Record the evidence" }
        }
    }
}

/// A file read from the form.
pub struct FormFile {
    name: String,
    bytes: Vec<u8>,
}

/// Reads a multipart form: its text fields, and the files of its `file` inputs.
pub async fn read_form(
    multipart: &mut Multipart,
) -> Result<(HashMap<String, String>, Vec<FormFile>), String> {
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    let too_large =
        || format!("the upload could not be read; it may be up to {UPLOAD_LIMIT} bytes");
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(too_large()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| too_large())?;
        match filename {
            Some(f) if name == "file" => {
                // A file input left empty still sends a part, nameless and empty.
                if !(f.is_empty() && bytes.is_empty()) {
                    files.push(FormFile {
                        name: f,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            _ => {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| format!("the field {name} is not UTF-8 text"))?;
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

/// What an upload form asked for could not be done: a message for the person, or a
/// store error for the page to judge.
pub enum UploadRefused {
    /// Said to the person as it is.
    Message(String),
    /// From the store.
    Store(embargo_store::StoreError),
}

/// Carries out one of the page's file forms: `patch` or `evidence`.
pub async fn apply_upload(
    state: &AppState,
    viewer: &embargo_core::access::Viewer,
    case_ref: &CaseRef,
    what: &str,
    form: &HashMap<String, String>,
    files: Vec<FormFile>,
) -> Result<(), UploadRefused> {
    let store = &state.store;
    let done = match what {
        "patch" => {
            let branch = given(form, "branch").unwrap_or_default();
            let note = given(form, "note");
            let (name, bytes) = match (files.into_iter().next(), given(form, "pasted")) {
                (Some(f), _) => (f.name, f.bytes),
                (None, Some(text)) => ("pasted.patch".to_owned(), text.into_bytes()),
                (None, None) => {
                    return Err(UploadRefused::Message(
                        "choose a patch file, or paste the patch".into(),
                    ));
                }
            };
            store
                .import_patch(viewer, case_ref, &branch, &name, &bytes, note.as_deref())
                .await
        }
        _ => {
            let evidence = TestingEvidence {
                text: form.get("text").cloned().unwrap_or_default(),
                links: form
                    .get("links")
                    .map(|l| l.lines().map(str::to_owned).collect())
                    .unwrap_or_default(),
            };
            let uploads: Vec<Upload<'_>> = files
                .iter()
                .map(|f| Upload {
                    filename: &f.name,
                    content_type: "application/octet-stream",
                    bytes: &f.bytes,
                    limit: EVIDENCE_FILE_LIMIT,
                })
                .collect();
            store
                .record_testing(viewer, case_ref, &evidence, &uploads)
                .await
        }
    };
    done.map(|_| ()).map_err(UploadRefused::Store)
}

/// A private patch, shown as a diff.
pub async fn file(
    AxumState(state): AxumState<AppState>,
    member: Member,
    axum::extract::Path((reference, id)): axum::extract::Path<(String, i64)>,
) -> Result<Response, PageError> {
    let case_ref: CaseRef = reference.parse()?;
    let (info, bytes) = state.store.case_file(&member.viewer, &case_ref, id).await?;
    let r = case_ref.to_string();
    let text = String::from_utf8_lossy(&bytes);
    let lines = diff::lines(&text);
    let revealed = lines.iter().filter(|l| l.revealed).count();
    let body = html! {
        nav.breadcrumb aria-label="Breadcrumb" { a href="/desk" { "Queue" } " › " a href={ "/desk/cases/" (r) "#fix" } { (r) } " › " (info.filename) }
        h1 { (info.filename) }
        p { (info.size) " bytes, added " (short_time(&info.at)) @if let Some(by) = &info.by { " by " (by) } ". "
            a href={ "/api/cases/" (r) "/files/" (id) } download { "Download it" } " exactly as uploaded." }
        @if revealed > 0 {
            (layout::notice("warning", &format!("{revealed} line(s) hold characters that display invisibly or reorder text; each is shown by its code point, as ⟨U+…⟩.")))
        }
        pre.diff {
            @for l in &lines {
                @let class = match l.kind {
                    LineKind::Message => "msg",
                    LineKind::File => "file",
                    LineKind::Hunk => "hunk",
                    LineKind::Added => "add",
                    LineKind::Removed => "del",
                    LineKind::Context => "ctx",
                };
                // Each line is a block of its own: no newline in the markup, so a line's
                // trailing space stays inside its element.
                span class={ (class) @if l.revealed { " revealed" } } { (l.text) }
            }
        }
    };
    Ok(layout::page(
        &format!("{r}: {}", info.filename),
        Some(&member),
        body,
    ))
}
