//! The UI over plain HTTP on the real server (no browser needed): where it lives, how it is
//! served, and that it is the same binary's (nothing read from disk, nothing from elsewhere).

use crate::support::empty_server;

fn get(server: &crate::support::Server, path: &str) -> ureq::Response {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    match agent.get(&server.url(path)).call() {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("GET {path}: {error}"),
    }
}

#[test]
fn the_ui_is_served_under_ui_with_a_strict_policy() {
    let server = empty_server();
    let redirect = get(&server, "/ui");
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.header("location"), Some("/ui/"));

    let page = get(&server, "/ui/");
    assert_eq!(page.status(), 200);
    assert_eq!(page.content_type(), "text/html");
    let policy = page
        .header("content-security-policy")
        .expect("a policy")
        .to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let html = page.into_string().unwrap();
    assert!(html.contains("<script type=\"module\" src=\"js/main.js\"></script>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "only this origin"
    );

    for (path, content_type) in [
        ("/ui/js/main.js", "text/javascript"),
        ("/ui/style.css", "text/css"),
        ("/ui/favicon.svg", "image/svg+xml"),
    ] {
        let asset = get(&server, path);
        assert_eq!(asset.status(), 200, "{path}");
        assert_eq!(asset.content_type(), content_type, "{path}");
        assert!(asset.header("etag").is_some(), "{path}");
    }

    let missing = get(&server, "/ui/js/missing.js");
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.content_type(), "application/problem+json");
    let body: serde_json::Value = missing.into_json().unwrap();
    assert_eq!(body["code"], "not_found");
}
