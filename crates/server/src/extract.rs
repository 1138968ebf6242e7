//! Request decoding that answers bad input with problem+json: JSON bodies (strict: unknown
//! fields and wrong types name the field), query strings, and the caller's context.

use crate::problem::ApiError;
use app::{Actor, Principal};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use bytes::Bytes;
use model::FieldError;
use serde::de::DeserializeOwned;

/// The largest request body any route accepts.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body, decoded strictly.
pub struct ApiJson<T>(pub T);

/// Decodes JSON bytes, naming the offending field on a type error.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // A type error found before the parser reached a syntax error is still malformed JSON.
            let malformed =
                inner.is_syntax() || inner.is_eof() || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err();
            if malformed {
                Err(ApiError::BadRequest(format!("the body is not valid JSON: {inner}")))
            } else {
                let field = if path == "." { "body".to_owned() } else { path };
                Err(ApiError::Invalid(vec![FieldError::new(field, inner.to_string())]))
            }
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType("send the body as `Content-Type: application/json`".into()));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!("bodies are limited to {BODY_LIMIT} bytes"))
            } else {
                ApiError::BadRequest(format!("the body could not be read: {e}"))
            }
        })?;
        decode_json(&bytes).map(ApiJson)
    }
}

/// The raw query string as ordered pairs, for the list convention in `model::list`.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
            .map(QueryPairs)
            .map_err(|e| ApiError::BadRequest(format!("the query string could not be read: {e}")))
    }
}

/// Path parameters; a segment that is not valid UTF-8 or not the expected type is a 400
/// problem, not axum's plain-text rejection.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| ApiError::BadRequest(format!("the URL path could not be read: {}", e.body_text())))
    }
}

/// Who is calling, set by the access guard before any handler runs.
#[derive(Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub source: String,
}

impl Ctx {
    pub fn actor(&self) -> Actor {
        self.principal.actor(&self.source)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Ctx>().cloned().ok_or(ApiError::Unauthenticated)
    }
}

/// The caller's address as the access guard saw it.
#[derive(Clone)]
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(parts.extensions.get::<Source>().cloned().unwrap_or(Source("unknown".into())))
    }
}
