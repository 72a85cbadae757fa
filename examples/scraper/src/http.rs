//! Real mode: fetching pages over HTTP(S) with reqwest, and reading their `<title>`.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::ScraperError;

/// A page fetched over HTTP: whatever the status, the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The HTTP status code (200, 404, …).
    pub status: u16,
    /// The body's size in bytes.
    pub bytes: usize,
    /// The text of the page's `<title>`, if it has a non-empty one.
    pub title: Option<String>,
}

/// Fetches pages: `HEAD` to check a page is online, `GET` to scrape it. Cheap to clone
/// (the connection pool is shared).
#[derive(Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
}

impl fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpFetcher").finish_non_exhaustive()
    }
}

impl HttpFetcher {
    /// A fetcher whose requests give up after `timeout` (connecting and reading
    /// included).
    ///
    /// # Errors
    ///
    /// [`ScraperError::Http`] when the HTTP client cannot be built (no TLS roots, …).
    pub fn new(timeout: Duration) -> Result<Self, ScraperError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("arbor-scraper/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ScraperError::Http(describe(&error)))?;
        Ok(HttpFetcher { client })
    }

    /// The online check: `Ok` once the server answers a `HEAD` request with any status
    /// (a server that answers is online, even with 404 or 405), or why it did not.
    pub async fn online(&self, url: &str) -> Result<(), String> {
        match self.client.head(url).send().await {
            Ok(_) => Ok(()),
            Err(error) => Err(describe(&error)),
        }
    }

    /// Fetches `url` and reads its status, size and title.
    ///
    /// # Errors
    ///
    /// Why the server gave no answer or the body could not be read, as text.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, String> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|error| describe(&error))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|error| describe(&error))?;
        Ok(Fetched {
            status,
            bytes: body.len(),
            title: title(&String::from_utf8_lossy(&body)),
        })
    }
}

/// An error with its causes, `outer: inner: innermost`: reqwest's own message ("error
/// sending request") says little without the cause ("Connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Checks that `url` is an absolute `http` or `https` URL.
///
/// # Errors
///
/// [`ScraperError::BadUrl`] otherwise.
pub fn check_url(url: &str) -> Result<(), ScraperError> {
    let bad = |why: &str| ScraperError::BadUrl {
        url: url.to_owned(),
        why: why.to_owned(),
    };
    let parsed = Url::parse(url).map_err(|error| bad(&error.to_string()))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host().is_some() => Ok(()),
        "http" | "https" => Err(bad("no host")),
        other => Err(bad(&format!("scheme {other:?} is not http or https"))),
    }
}

/// The URLs in a file's text: one per line; blank lines and lines starting with `#` are
/// skipped.
///
/// # Errors
///
/// [`ScraperError::BadUrl`] for the first line that is not an http(s) URL.
pub fn parse_url_list(text: &str) -> Result<Vec<String>, ScraperError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| check_url(line).map(|()| line.to_owned()))
        .collect()
}

/// The text of the first `<title>` element in `html`, with entities for `& < > " '`
/// decoded and runs of white space collapsed; `None` when there is none or it is empty.
pub fn title(html: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let after_name = open + "<title".len();
    // `<title>` or `<title lang=…>`, not `<titlefoo>`.
    let next = lower[after_name..].chars().next()?;
    if next != '>' && !next.is_ascii_whitespace() {
        return None;
    }
    let start = after_name + lower[after_name..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let text = decode_entities(&html[start..end]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        // Last, so `&amp;lt;` becomes `&lt;` and not `<`.
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_title() {
        let html = "<html><HEAD><Title lang=en>\n  Tom &amp; Jerry &lt;3\n</TITLE></head>";
        assert_eq!(title(html).as_deref(), Some("Tom & Jerry <3"));
        assert_eq!(title("<title></title>"), None);
        assert_eq!(title("<titlefoo>x</titlefoo>"), None);
        assert_eq!(title("<p>no title</p>"), None);
        assert_eq!(title("<title>unterminated"), None);
        assert_eq!(
            title("<title>caf\u{e9}</title>").as_deref(),
            Some("caf\u{e9}")
        );
    }

    #[test]
    fn urls_must_be_http() {
        assert!(check_url("https://example.com/a").is_ok());
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("ftp://example.com").is_err());
        assert!(check_url("example.com").is_err());
        let list = parse_url_list("# pages\nhttp://a.test/\n\n  https://b.test/x  \n").unwrap();
        assert_eq!(list, ["http://a.test/", "https://b.test/x"]);
        assert!(parse_url_list("http://a.test/\nnope\n").is_err());
    }
}
