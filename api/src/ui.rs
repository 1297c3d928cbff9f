//! The web UI under `/ui/`: the patient's page, the finance dashboard and the hospital
//! desk, as hand-written HTML, CSS and JavaScript modules (charts are inline SVG built in the
//! browser). Every asset is embedded in the binary (`include_bytes!`): nothing is read from
//! disk at run time and nothing is fetched from another origin.
//!
//! The pages call the same REST endpoints as everyone else, with the token the user signed
//! in with (kept in the browser's `sessionStorage` only).
//!
//! Responses carry a strict Content-Security-Policy (this origin only, no inline script or
//! style), `nosniff`, no referrer, no framing, and an `ETag` with `Cache-Control: no-cache`
//! (the browser revalidates and gets `304 Not Modified` while the binary is the same).
//! `GET /ui` redirects to `/ui/`; an unknown asset is 404 problem+json, another method 405.
//!
//! **Architecture Invariant:** the UI holds no rules and computes no figures: it shows what
//! the API returns (amounts as the decimal strings the API gives, grouped by thousands as
//! text, never through a float).

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::routes::{resource, Handled};

/// Where the UI is mounted.
pub const UI_ROOT: &str = "/ui/";

/// The policy of every UI response: this origin only; no inline script or style, no
/// plugins, no framing, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    /// The path under `/ui/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($(($path:literal, $content_type:expr)),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../ui/", $path)),
        }),*]
    };
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Every file of `api/ui/` (a test checks that none is missing).
const ASSETS: &[Asset] = assets![
    ("index.html", "text/html; charset=utf-8"),
    ("style.css", "text/css; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
    ("js/main.js", JAVASCRIPT),
    ("js/api.js", JAVASCRIPT),
    ("js/i18n.js", JAVASCRIPT),
    ("js/format.js", JAVASCRIPT),
    ("js/dom.js", JAVASCRIPT),
    ("js/charts.js", JAVASCRIPT),
    ("js/patient.js", JAVASCRIPT),
    ("js/finance.js", JAVASCRIPT),
    ("js/hospital.js", JAVASCRIPT),
];

/// Assets at most this large (a limit on what the binary carries; the UI is small).
const ASSET_BYTES_MAX: usize = 256 * 1024;
const _: () = {
    let mut index = 0;
    while index < ASSETS.len() {
        assert!(ASSETS[index].body.len() <= ASSET_BYTES_MAX);
        index += 1;
    }
};

/// The strong entity tag of each asset (the first 16 bytes of its SHA-256), computed once.
fn entity_tags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| format!("\"{}\"", hex::encode(&Sha256::digest(asset.body)[..16])))
            .collect()
    })
}

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/ui").route(web::get().to(redirect)))
        .service(resource("/ui/").route(web::get().to(index)))
        .service(resource("/ui/{asset:.+}").route(web::get().to(asset)));
}

/// `/ui` -> `/ui/` (relative asset paths resolve under the directory).
async fn redirect() -> Handled {
    Ok(HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, UI_ROOT))
        .finish())
}

async fn index(request: HttpRequest) -> Handled {
    Ok(serve(&request, 0))
}

async fn asset(request: HttpRequest, path: web::Path<String>) -> Handled {
    let position = ASSETS
        .iter()
        .position(|asset| asset.path == path.as_str())
        .ok_or_else(|| ApiError::not_found("no such file in the UI"))?;
    Ok(serve(&request, position))
}

/// The asset at `position`, or 304 when the client's copy is current.
fn serve(request: &HttpRequest, position: usize) -> HttpResponse {
    let asset = &ASSETS[position];
    let tag = &entity_tags()[position];
    let current = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|given| given.trim() == tag));
    let mut response = if current {
        HttpResponse::build(StatusCode::NOT_MODIFIED)
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, tag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if current {
        return response.finish();
    }
    response
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ))
        .body(asset.body)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use actix_web::{test as web_test, App};

    use super::*;

    fn ui_directory() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
    }

    fn files_under(directory: &Path, prefix: &str, files: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(directory).expect("the ui directory") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                files_under(&path, &format!("{prefix}{name}/"), files);
            } else {
                files.insert(format!("{prefix}{name}"));
            }
        }
    }

    fn asset_text(path: &str) -> &'static str {
        let asset = ASSETS
            .iter()
            .find(|asset| asset.path == path)
            .unwrap_or_else(|| panic!("{path} is not an asset"));
        std::str::from_utf8(asset.body).expect("text")
    }

    #[test]
    fn every_file_of_the_ui_directory_is_served_and_no_other() {
        let mut files = BTreeSet::new();
        files_under(&ui_directory(), "", &mut files);
        let served: BTreeSet<String> = ASSETS.iter().map(|asset| asset.path.to_owned()).collect();
        assert_eq!(files, served);
        for asset in ASSETS {
            if asset.path.ends_with(".js") {
                assert_eq!(asset.content_type, JAVASCRIPT, "{}", asset.path);
            }
        }
    }

    /// Every module a script imports, and every file the page links, is served: a typo
    /// would otherwise show only in a browser.
    #[test]
    fn every_import_and_link_resolves_to_an_asset() {
        let served: BTreeSet<&str> = ASSETS.iter().map(|asset| asset.path).collect();
        let mut references = Vec::new();
        for asset in ASSETS.iter().filter(|asset| asset.path.ends_with(".js")) {
            let directory = asset.path.rsplit_once('/').map_or("", |(dir, _)| dir);
            for line in asset_text(asset.path).lines() {
                let line = line.trim();
                if !(line.starts_with("import ") || line.starts_with("} from ")) {
                    continue;
                }
                let Some((_, rest)) = line.split_once("from \"") else {
                    continue;
                };
                let target = rest.split('"').next().unwrap();
                let target = target.strip_prefix("./").expect("relative imports");
                references.push((asset.path, format!("{directory}/{target}")));
            }
        }
        let html = asset_text("index.html");
        for attribute in ["href=\"", "src=\""] {
            for piece in html.split(attribute).skip(1) {
                let target = piece.split('"').next().unwrap();
                assert!(
                    !target.contains("//"),
                    "index.html refers to another origin: {target}"
                );
                if target.starts_with('#') {
                    continue;
                }
                references.push(("index.html", target.trim_start_matches("./").to_owned()));
            }
        }
        assert!(references.len() >= 10, "only {references:?}");
        for (from, target) in references {
            assert!(
                served.contains(target.as_str()),
                "{from} refers to {target}, which is not served"
            );
        }
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let html = asset_text("index.html");
        assert!(!html.contains("<script>") && !html.contains("style="));
        assert!(!html.contains("<style"));
        for piece in html.split("<script").skip(1) {
            let tag = piece.split('>').next().unwrap();
            assert!(tag.contains("src="), "an inline script: <script{tag}>");
        }
        for asset in ASSETS.iter().filter(|asset| asset.path.ends_with(".js")) {
            let text = asset_text(asset.path);
            assert!(
                !text.contains("innerHTML") && !text.contains("eval("),
                "{}: build the DOM with textContent",
                asset.path
            );
        }
    }

    #[actix_web::test]
    async fn assets_are_served_with_their_type_policy_and_tag() {
        let app = web_test::init_service(
            App::new()
                .configure(configure)
                .default_service(web::to(crate::routes::not_found)),
        )
        .await;
        let request = web_test::TestRequest::get().uri("/ui").to_request();
        let response = web_test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers().get(header::LOCATION).unwrap(), "/ui/");

        let request = web_test::TestRequest::get().uri("/ui/").to_request();
        let response = web_test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            CONTENT_SECURITY_POLICY
        );
        let tag = headers.get(header::ETAG).unwrap().clone();
        let request = web_test::TestRequest::get()
            .uri("/ui/")
            .insert_header((header::IF_NONE_MATCH, tag.clone()))
            .to_request();
        let response = web_test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers().get(header::ETAG).unwrap(), &tag);

        let request = web_test::TestRequest::get()
            .uri("/ui/js/main.js")
            .to_request();
        let response = web_test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            JAVASCRIPT
        );
        assert_ne!(response.headers().get(header::ETAG).unwrap(), &tag);

        for missing in [
            "/ui/nope.js",
            "/ui/js/",
            "/ui/../Cargo.toml",
            "/ui/js/main.js/x",
        ] {
            let request = web_test::TestRequest::get().uri(missing).to_request();
            let response = web_test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                crate::problem::PROBLEM_JSON
            );
        }
        let request = web_test::TestRequest::post().uri("/ui/").to_request();
        let response = web_test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
