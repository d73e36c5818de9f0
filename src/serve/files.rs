//! The report files under `WS/reports/`, served read-only: checked path segments in, the file (or
//! a listing of a folder) out. The segments were already refused if they could climb out
//! (`..`, encoded slashes, ...); here the resolved path must also still lie inside the reports
//! folder once symbolic links are followed, or it is not found.

use super::html::{self, escape};
use super::problems::check_period;
use super::request::{Reply, RequestError, POLICY_REPORT, POLICY_STATIC};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// How deep below a period folder the listing looks (`teams/<team>.html` is two levels).
const LISTING_DEPTH: usize = 3;

/// Answers `/reports/<segments...>`.
pub fn report_file(reports_root: &Path, segments: &[String]) -> Result<Reply, RequestError> {
    let not_found = || {
        RequestError::NotFound(format!(
            "no report at /reports/{}; the reports of each period are listed at /reports/",
            super::request::truncate_for_message(&segments.join("/"))
        ))
    };
    let Ok(root) = reports_root.canonicalize() else {
        if segments.is_empty() {
            return Ok(Reply::html(200, listing_page(&[], &[]), POLICY_STATIC));
        }
        return Err(not_found());
    };
    let requested: PathBuf = segments
        .iter()
        .fold(root.clone(), |path, segment| path.join(segment));
    let resolved = requested.canonicalize().map_err(|_| not_found())?;
    if !resolved.starts_with(&root) {
        tracing::warn!(path = %requested.display(), "refused a report path that leaves the reports folder");
        return Err(not_found());
    }
    if resolved.is_dir() {
        let entries = folder_entries(&resolved);
        return Ok(Reply::html(
            200,
            listing_page(segments, &entries),
            POLICY_STATIC,
        ));
    }
    let body = std::fs::read(&resolved).map_err(|error| {
        RequestError::Internal(format!("cannot read {}: {error}", resolved.display()))
    })?;
    let (content_type, security_policy) = content_type(&resolved);
    Ok(Reply {
        status: 200,
        content_type,
        body,
        security_policy,
    })
}

/// Content type and security policy by extension; unknown kinds download as bytes.
fn content_type(path: &Path) -> (&'static str, &'static str) {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    let content_type = match extension.as_deref() {
        Some("html" | "htm") => return ("text/html; charset=utf-8", POLICY_REPORT),
        Some("md" | "txt") => "text/plain; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("parquet") => "application/vnd.apache.parquet",
        _ => "application/octet-stream",
    };
    (content_type, POLICY_STATIC)
}

/// Visible names in a folder, folders marked with a trailing `/`, sorted.
fn folder_entries(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') {
                return None;
            }
            let folder = entry.file_type().ok()?.is_dir();
            Some(if folder { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    names
}

fn listing_page(segments: &[String], entries: &[String]) -> String {
    let here = segments
        .iter()
        .fold(String::from("/reports/"), |mut path, segment| {
            path.push_str(&html::url_component(segment));
            path.push('/');
            path
        });
    let mut body = format!("<h1>Reports: /reports/{}</h1>", escape(&segments.join("/")));
    if entries.is_empty() {
        body.push_str(
            "<p class=\"muted\">No reports here yet: each <code>vocmine mine</code> run writes \
             <code>reports/&lt;period&gt;/</code>.</p>",
        );
    } else {
        body.push_str("<ul class=\"files\">");
        for entry in entries {
            let (name, slash) = match entry.strip_suffix('/') {
                Some(name) => (name, "/"),
                None => (entry.as_str(), ""),
            };
            let _ = write!(
                body,
                "<li><a href=\"{here}{}{slash}\">{}{slash}</a></li>",
                html::url_component(name),
                escape(name)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("<p><a href=\"/\">Back to search</a></p>");
    html::page("Reports", &body)
}

/// Every period folder with its files, as `/reports/...` addresses, oldest period first.
pub fn report_listing(reports_root: &Path) -> Vec<(String, Vec<String>)> {
    let mut periods: Vec<String> = folder_entries(reports_root)
        .into_iter()
        .filter_map(|entry| entry.strip_suffix('/').map(str::to_owned))
        .filter(|name| check_period(name).is_ok())
        .collect();
    periods.sort();
    periods
        .into_iter()
        .map(|period| {
            let mut files = Vec::new();
            let prefix = format!("/reports/{}/", html::url_component(&period));
            collect_files(
                &reports_root.join(&period),
                &prefix,
                LISTING_DEPTH,
                &mut files,
            );
            files.sort();
            (period, files)
        })
        .collect()
}

fn collect_files(folder: &Path, prefix: &str, depth: usize, files: &mut Vec<String>) {
    if depth == 0 {
        return;
    }
    for entry in folder_entries(folder) {
        match entry.strip_suffix('/') {
            Some(name) => {
                let prefix = format!("{prefix}{}/", html::url_component(name));
                collect_files(&folder.join(name), &prefix, depth - 1, files);
            }
            None => files.push(format!("{prefix}{}", html::url_component(&entry))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports() -> tempfile::TempDir {
        let directory = tempfile::tempdir().unwrap();
        let period = directory.path().join("reports/2026-10/teams");
        std::fs::create_dir_all(&period).unwrap();
        std::fs::write(period.join("care.html"), "<p>care</p>").unwrap();
        std::fs::write(directory.path().join("secret.txt"), "secret").unwrap();
        directory
    }

    #[test]
    fn files_inside_are_served_and_listed() {
        let directory = reports();
        let root = directory.path().join("reports");
        let segments = ["2026-10", "teams", "care.html"].map(String::from);
        let reply = report_file(&root, &segments).unwrap();
        assert_eq!(reply.body, b"<p>care</p>");
        assert!(reply.content_type.starts_with("text/html"));
        assert_eq!(
            report_listing(&root),
            [(
                "2026-10".to_string(),
                vec!["/reports/2026-10/teams/care.html".to_string()]
            )]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_reports_folder_is_not_followed() {
        let directory = reports();
        let root = directory.path().join("reports");
        std::os::unix::fs::symlink(directory.path().join("secret.txt"), root.join("link.txt"))
            .unwrap();
        let error = report_file(&root, &["link.txt".to_string()]).unwrap_err();
        assert_eq!(error.status(), 404);
    }

    #[test]
    fn missing_reports_are_not_found_and_the_empty_listing_says_why() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().join("reports");
        assert_eq!(
            report_file(&root, &["x.html".to_string()])
                .unwrap_err()
                .status(),
            404
        );
        let listing = String::from_utf8(report_file(&root, &[]).unwrap().body).unwrap();
        assert!(listing.contains("No reports here yet"));
    }
}
