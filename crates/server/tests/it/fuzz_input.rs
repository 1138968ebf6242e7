// Shared by the `http_request` fuzz target (fuzz/fuzz_targets/http_request.rs, through
// `include!`) and the seed replay test, so both decode fuzzer bytes into the same requests.
//
// Layout: byte 0 picks the method, byte 1 the credentials, byte 2 the content type; the rest
// is `path-and-query \n body`.

/// Turns arbitrary bytes into an HTTP request for the router.
pub fn request_from_bytes(data: &[u8], token: &str) -> Option<axum::http::Request<axum::body::Body>> {
    const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
    const TYPES: [&str; 4] = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/problem+json"];
    let (&m, rest) = data.split_first()?;
    let (&auth, rest) = rest.split_first()?;
    let (&ctype, rest) = rest.split_first()?;
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let (target, body) = rest.split_at(split);
    let target = String::from_utf8_lossy(target);
    let target = if target.starts_with('/') { target.into_owned() } else { format!("/api/v1/{target}") };
    let uri: axum::http::Uri = target.parse().ok()?;
    let mut b = axum::http::Request::builder()
        .method(METHODS[usize::from(m) % METHODS.len()])
        .uri(uri)
        .header("content-type", TYPES[usize::from(ctype) % TYPES.len()]);
    b = match auth % 3 {
        0 => b.header("authorization", format!("Bearer {token}")),
        1 => b.header("authorization", "Bearer wk_bogus"),
        _ => b.header("cookie", "wk_session=forged"),
    };
    b.body(axum::body::Body::from(body.get(1..).unwrap_or_default().to_vec())).ok()
}
