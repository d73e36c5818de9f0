//! Requests in, routes out; errors in, replies out. A raw request line (method and URL exactly as
//! the client sent them) becomes a [`Route`] with percent-decoded path segments and query
//! parameters, or a [`RequestError`] that says what was wrong. Nothing here touches the index or
//! the disk; the handlers receive only routes that passed these checks.

use super::html;
use serde_json::json;
use thiserror::Error;

/// Longest request URL accepted, in bytes (a 2,000-byte Chinese query percent-encodes to about
/// 6,000).
pub const MAX_URL_BYTES: usize = 16_384;

/// Most hits one page of `/api/search` returns.
pub const MAX_PER_PAGE: usize = 100;

/// Deepest hit reachable by paging (page x per_page): the search module's window.
pub use crate::search::MAX_RESULT_WINDOW;

/// Longest id (document or problem) or period accepted in a path, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// A request the server answers with an error status and a message for the person who sent it.
#[derive(Debug, Error, PartialEq)]
pub enum RequestError {
    /// The request is malformed: bad query syntax, bad date, unknown filter value, traversal.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing is at that address.
    #[error("{0}")]
    NotFound(String),
    /// Only GET and HEAD are served: the server is read-only.
    #[error("{0} is not allowed: this server is read-only and answers GET and HEAD only")]
    MethodNotAllowed(String),
    /// The URL is longer than [`MAX_URL_BYTES`].
    #[error("the address is {0} bytes long; the limit is {MAX_URL_BYTES}")]
    UriTooLong(usize),
    /// Something on our side failed (an unreadable index or report file, a bug).
    #[error("{0}")]
    Internal(String),
}

impl RequestError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::BadRequest(_) => 400,
            RequestError::NotFound(_) => 404,
            RequestError::MethodNotAllowed(_) => 405,
            RequestError::UriTooLong(_) => 414,
            RequestError::Internal(_) => 500,
        }
    }
}

/// Shorthand for a 400 with a message.
pub fn bad(message: impl Into<String>) -> RequestError {
    RequestError::BadRequest(message.into())
}

/// Where a request goes, with its decoded path parts and query parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/`: the search page (its script reads the query string itself).
    SearchPage,
    /// `/document/<id>[?unit=START-END]`: a document, with one complaint unit (byte offsets into
    /// its text, as in `problems.json`) highlighted.
    DocumentPage {
        /// Document id.
        id: String,
        /// The unit to highlight.
        unit: Option<(usize, usize)>,
    },
    /// `/problem/<id>[?period=]`.
    ProblemPage {
        /// Problem id.
        id: String,
        /// Period to read, default the newest that has the problem.
        period: Option<String>,
    },
    /// `/reports/<segments...>`, each segment checked to be a plain name.
    Report(Vec<String>),
    /// `/api/search?...`.
    ApiSearch(Parameters),
    /// `/api/document/<id>`.
    ApiDocument(String),
    /// `/api/problems[?period=]`.
    ApiProblems {
        /// Period, default the newest.
        period: Option<String>,
    },
    /// `/api/problem/<id>[?period=]`.
    ApiProblem {
        /// Problem id.
        id: String,
        /// Period, default the newest that has the problem.
        period: Option<String>,
    },
    /// `/api/filters`: the values each filter accepts.
    ApiFilters,
    /// `/api/reports`: the report files of every period.
    ApiReports,
}

/// True when the URL is an API address, whose errors are JSON rather than HTML.
pub fn is_api(url: &str) -> bool {
    url == "/api" || url.starts_with("/api/") || url.starts_with("/api?")
}

impl Route {
    /// Checks and decodes a request line.
    pub fn parse(method: &str, url: &str) -> Result<Route, RequestError> {
        if method != "GET" && method != "HEAD" {
            return Err(RequestError::MethodNotAllowed(truncate_for_message(method)));
        }
        if url.len() > MAX_URL_BYTES {
            return Err(RequestError::UriTooLong(url.len()));
        }
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let segments = path_segments(path)?;
        let parameters = Parameters::parse(query);
        let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
        match parts.as_slice() {
            [] => Ok(Route::SearchPage),
            ["document", id] => Ok(Route::DocumentPage {
                id: checked_id(id)?,
                unit: parameters.unit()?,
            }),
            ["problem", id] => Ok(Route::ProblemPage {
                id: checked_id(id)?,
                period: parameters.only_period()?,
            }),
            ["reports", rest @ ..] => Ok(Route::Report(
                rest.iter().map(|part| part.to_string()).collect(),
            )),
            ["api", "search"] => Ok(Route::ApiSearch(parameters)),
            ["api", "document", id] => Ok(Route::ApiDocument(checked_id(id)?)),
            ["api", "problems"] => Ok(Route::ApiProblems {
                period: parameters.only_period()?,
            }),
            ["api", "problem", id] => Ok(Route::ApiProblem {
                id: checked_id(id)?,
                period: parameters.only_period()?,
            }),
            ["api", "filters"] => Ok(Route::ApiFilters),
            ["api", "reports"] => Ok(Route::ApiReports),
            _ => Err(RequestError::NotFound(format!(
                "nothing at {}; the search page is at /, the API under /api/ (see the README)",
                truncate_for_message(path)
            ))),
        }
    }
}

/// Splits a path into percent-decoded segments, refusing anything that could leave a folder:
/// `.` and `..` segments (raw or encoded), encoded slashes and backslashes, NUL, invalid UTF-8.
fn path_segments(path: &str) -> Result<Vec<String>, RequestError> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad("the path must start with /"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/').map(decode_segment).collect()
}

fn decode_segment(raw: &str) -> Result<String, RequestError> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| bad("the path is not valid UTF-8 once percent-decoded"))?;
    let traversal = decoded.is_empty()
        || decoded == "."
        || decoded == ".."
        || decoded.contains(['/', '\\', '\0']);
    if traversal {
        return Err(bad(format!(
            "the path segment '{}' is not allowed: paths may not contain empty, '.' or '..' \
             segments, encoded slashes, backslashes or NUL",
            truncate_for_message(raw)
        )));
    }
    Ok(decoded.into_owned())
}

fn checked_id(id: &str) -> Result<String, RequestError> {
    if id.len() > MAX_ID_BYTES {
        return Err(bad(format!(
            "the id is {} bytes long; the limit is {MAX_ID_BYTES}",
            id.len()
        )));
    }
    Ok(id.to_string())
}

/// Shortens text quoted back in an error message.
pub fn truncate_for_message(text: &str) -> String {
    const LIMIT: usize = 80;
    if text.chars().count() <= LIMIT {
        return text.to_string();
    }
    let mut short: String = text.chars().take(LIMIT).collect();
    short.push('…');
    short
}

/// Query-string parameters, percent-decoded (`+` is a space), in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters(Vec<(String, String)>);

impl Parameters {
    /// Parses a query string; invalid UTF-8 becomes U+FFFD.
    pub fn parse(query: &str) -> Parameters {
        Parameters(
            form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// Every value of a parameter, empty values left out.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.trim().is_empty())
            .map(|(_, value)| value.trim())
            .collect()
    }

    /// The one value of a parameter; given twice is an error.
    pub fn single(&self, name: &str) -> Result<Option<&str>, RequestError> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [value] => Ok(Some(value)),
            _ => Err(bad(format!("'{name}' may be given only once"))),
        }
    }

    /// Refuses parameters not in `known`, naming the ones that are.
    pub fn check_known(&self, known: &[&str]) -> Result<(), RequestError> {
        match self
            .0
            .iter()
            .find(|(key, _)| !known.contains(&key.as_str()))
        {
            None => Ok(()),
            Some((key, _)) => Err(bad(format!(
                "unknown parameter '{}'; known parameters: {}",
                truncate_for_message(key),
                known.join(", ")
            ))),
        }
    }

    /// The `unit` parameter of a document page: `START-END` byte offsets, START before END.
    fn unit(&self) -> Result<Option<(usize, usize)>, RequestError> {
        self.check_known(&["unit"])?;
        let Some(value) = self.single("unit")? else {
            return Ok(None);
        };
        let parsed = value
            .split_once('-')
            .and_then(|(start, end)| Some((start.parse().ok()?, end.parse().ok()?)))
            .filter(|(start, end): &(usize, usize)| start < end);
        parsed.map(Some).ok_or_else(|| {
            bad(format!(
                "'unit' must be START-END byte offsets with START < END, as in problems.json; got '{}'",
                truncate_for_message(value)
            ))
        })
    }

    /// The `period` parameter, the only one some routes take, checked to be a plain name.
    fn only_period(&self) -> Result<Option<String>, RequestError> {
        self.check_known(&["period"])?;
        self.single("period")?
            .map(|period| super::problems::check_period(period).map(str::to_owned))
            .transpose()
    }
}

/// A finished answer: status, type, body and extra headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Content-Type header.
    pub content_type: &'static str,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Content-Security-Policy header.
    pub security_policy: &'static str,
}

/// Pages that run no script: nothing but inline styles and local images.
pub const POLICY_STATIC: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The search page: its own inline script, which talks only to this server.
pub const POLICY_SCRIPT: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Report files written by `vocmine mine`: inline styles, scripts and fonts, nothing fetched.
pub const POLICY_REPORT: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

impl Reply {
    /// A 200 JSON answer.
    pub fn json(value: &impl serde::Serialize) -> Result<Reply, RequestError> {
        let body = serde_json::to_vec(value)
            .map_err(|error| RequestError::Internal(format!("cannot write JSON: {error}")))?;
        Ok(Reply {
            status: 200,
            content_type: "application/json; charset=utf-8",
            body,
            security_policy: POLICY_STATIC,
        })
    }

    /// An HTML answer with the given status and policy.
    pub fn html(status: u16, page: String, security_policy: &'static str) -> Reply {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: page.into_bytes(),
            security_policy,
        }
    }

    /// The answer to an error: `{"error": {"status", "message"}}` for the API, a page otherwise.
    pub fn error(error: &RequestError, api: bool) -> Reply {
        let status = error.status();
        let message = error.to_string();
        if api {
            let body = json!({ "error": { "status": status, "message": message } });
            Reply {
                status,
                content_type: "application/json; charset=utf-8",
                body: body.to_string().into_bytes(),
                security_policy: POLICY_STATIC,
            }
        } else {
            Reply::html(status, html::error_page(status, &message), POLICY_STATIC)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(url: &str) -> Result<Route, RequestError> {
        Route::parse("GET", url)
    }

    #[test]
    fn routes_decode_their_ids_and_parameters() {
        assert_eq!(route("/").unwrap(), Route::SearchPage);
        assert_eq!(route("/?q=brake").unwrap(), Route::SearchPage);
        assert_eq!(
            route("/document/a%20b").unwrap(),
            Route::DocumentPage {
                id: "a b".into(),
                unit: None
            }
        );
        assert_eq!(
            route("/api/problem/P0001?period=2026-10").unwrap(),
            Route::ApiProblem {
                id: "P0001".into(),
                period: Some("2026-10".into())
            }
        );
        let Route::ApiSearch(parameters) = route("/api/search?q=%E5%88%B9%E8%BD%A6+AND+x").unwrap()
        else {
            panic!("not a search");
        };
        assert_eq!(parameters.all("q"), ["刹车 AND x"]);
    }

    #[test]
    fn traversal_in_any_spelling_is_refused() {
        for url in [
            "/reports/../../etc/passwd",
            "/reports/%2e%2e/%2e%2e/etc/passwd",
            "/reports/%2E%2E%2Fetc%2Fpasswd",
            "/reports/2026-10/..%5c..%5cetc",
            "/reports/./x",
            "/reports//etc/passwd",
            "/reports/a%00b",
            "/reports/%ff",
        ] {
            let error = route(url).unwrap_err();
            assert_eq!(error.status(), 400, "{url}: {error}");
        }
        assert_eq!(
            route("/reports/2026-10/teams/care.html").unwrap(),
            Route::Report(vec!["2026-10".into(), "teams".into(), "care.html".into()])
        );
    }

    #[test]
    fn other_methods_unknown_paths_and_long_urls_get_4xx() {
        assert_eq!(
            Route::parse("POST", "/api/search").unwrap_err().status(),
            405
        );
        assert_eq!(route("/etc/passwd").unwrap_err().status(), 404);
        assert_eq!(route("/api/nothing").unwrap_err().status(), 404);
        let long = format!("/api/search?q={}", "a".repeat(MAX_URL_BYTES));
        assert_eq!(route(&long).unwrap_err().status(), 414);
        assert_eq!(
            route("/api/problems?period=../x").unwrap_err().status(),
            400
        );
        assert_eq!(route("/api/problems?colour=red").unwrap_err().status(), 400);
    }

    #[test]
    fn api_errors_are_json_and_page_errors_are_escaped_html() {
        let error = bad("no <b>such</b> thing");
        let api = Reply::error(&error, true);
        let value: serde_json::Value = serde_json::from_slice(&api.body).unwrap();
        assert_eq!(value["error"]["status"], 400);
        assert_eq!(value["error"]["message"], "no <b>such</b> thing");
        let page = String::from_utf8(Reply::error(&error, false).body).unwrap();
        assert!(page.contains("no &lt;b&gt;such&lt;/b&gt; thing"), "{page}");
    }
}
