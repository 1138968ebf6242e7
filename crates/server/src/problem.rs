//! RFC 9457 problem details: the one shape of every API error, with field-level detail.
//!
//! Each [`ApiError`] has one status and one stable problem type; the mapping from use-case
//! errors lives here and nowhere else, so the same failure always answers the same way.

use app::AppError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::{FieldError, Invalid};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem+json body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable, documented in the API page.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// One entry per bad input field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field, query parameter or JSON pointer that is wrong.
    pub field: String,
    pub message: String,
}

/// Everything an API route can answer besides success.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request could not be read (bad JSON, bad query string).
    BadRequest(String),
    /// 422: the content was read but breaks rules.
    Invalid(Vec<FieldError>),
    /// 400 with the fields named: the same, where a protocol we speak for others answers
    /// 400 (Alertmanager's API).
    InvalidRequest(Vec<FieldError>),
    Unauthenticated,
    Forbidden(String),
    CsrfFailed,
    NotFound(String),
    MethodNotAllowed,
    Conflict(String),
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    Throttled {
        retry_after_s: i64,
    },
    Timeout,
    Internal,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "The request could not be read"),
            Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", "Some input is not valid"),
            InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid-input", "Some input is not valid"),
            Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required"),
            Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not permitted"),
            CsrfFailed => (StatusCode::FORBIDDEN, "csrf-failed", "Missing or wrong CSRF token"),
            NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict with the current state"),
            PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Request body too large"),
            UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported content type")
            }
            Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled", "Too many attempts"),
            Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout", "The request took too long"),
            Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    pub fn problem(&self) -> Problem {
        use ApiError::*;
        let (status, kind, title) = self.parts();
        let detail = match self {
            BadRequest(d) | Forbidden(d) | NotFound(d) | Conflict(d) | PayloadTooLarge(d) | UnsupportedMediaType(d) => {
                Some(d.clone())
            }
            Invalid(_) | InvalidRequest(_) => Some("Correct the fields listed in `errors` and send the request again.".into()),
            Unauthenticated => Some(
                "Send `Authorization: Bearer <token>` (create one with `watchkeeper token create`) or sign in to the console."
                    .into(),
            ),
            CsrfFailed => Some(
                "Reload the page and submit the form again; API clients send the session's token in `X-CSRF-Token` or use a bearer token."
                    .into(),
            ),
            MethodNotAllowed => Some("See /api/openapi.json for the methods this path accepts.".into()),
            Throttled { retry_after_s } => Some(format!("Wait {retry_after_s} seconds before trying again.")),
            Timeout => Some("Try again; if it persists, the server is overloaded.".into()),
            Internal => Some("The error was logged; report the time of the request to an administrator.".into()),
        };
        let errors = match self {
            Invalid(fields) | InvalidRequest(fields) => {
                fields.iter().map(|f| ProblemField { field: f.field.clone(), message: f.message.clone() }).collect()
            }
            _ => Vec::new(),
        };
        Problem {
            type_: format!("urn:watchkeeper:problem:{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (self.status(), body).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match self {
            ApiError::Unauthenticated => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"watchkeeper\""));
            }
            ApiError::Throttled { retry_after_s } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                    h.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        resp
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Invalid(e.0)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(i) => ApiError::Invalid(i.0),
            AppError::NotFound(what) => ApiError::NotFound(format!("{what} does not exist or is not visible to you")),
            AppError::Forbidden(perm) => {
                ApiError::Forbidden(format!("your role or token lacks the `{}` permission", perm_name(perm)))
            }
            AppError::Unauthenticated(_) => ApiError::Unauthenticated,
            AppError::Throttled { retry_after_s } => ApiError::Throttled { retry_after_s },
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::Rejected(e) => {
                let field = e.field.clone().unwrap_or_else(|| "file".into());
                ApiError::Invalid(vec![model::FieldError::new(field, e.to_string())])
            }
            e @ (AppError::Store(_) | AppError::Internal(_)) => {
                tracing::error!(error = %e, "Request failed with an internal error.");
                ApiError::Internal
            }
        }
    }
}

pub fn perm_name(p: model::Perm) -> String {
    serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| format!("{p:?}"))
}
