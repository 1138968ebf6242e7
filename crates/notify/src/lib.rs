//! Delivering notifications: e-mail over SMTP and chat webhooks in the shapes Microsoft
//! Teams (an Adaptive Card, as Teams workflows take it), Mattermost and Slack accept.
//!
//! This crate renders and sends one notice to one target and says how it went; what to send,
//! to whom, how often and when to try again is the desk's business (`app`). Nothing here
//! needs an internet service: the SMTP relay and the chat servers are whatever the site runs.
//! Errors never carry a webhook's URL — its path is the secret.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Teams,
    Mattermost,
    Slack,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] =
        [ChannelKind::Email, ChannelKind::Teams, ChannelKind::Mattermost, ChannelKind::Slack];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Teams => "teams",
            ChannelKind::Mattermost => "mattermost",
            ChannelKind::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    fn colour(self) -> &'static str {
        match self {
            Severity::Critical => "#c62828",
            Severity::Warning => "#ef8f00",
            Severity::Info => "#1565c0",
        }
    }
}

/// One notification, as every channel renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// One line: `INC0000042 P1 resolution breached — pn-core-sw1 down`.
    pub title: String,
    pub text: String,
    pub severity: Severity,
    /// The record in the console, when the server knows its own address.
    #[serde(default)]
    pub link: Option<String>,
    /// Labelled values shown as a table: priority, state, assignee…
    #[serde(default)]
    pub facts: Vec<(String, String)>,
}

/// The JSON a chat server's incoming webhook takes for `notice`.
pub fn webhook_body(kind: ChannelKind, n: &Notice) -> Value {
    let facts: Vec<Value> = n.facts.iter().map(|(k, v)| json!({"title": k, "value": v})).collect();
    match kind {
        ChannelKind::Teams => {
            let mut body = vec![
                json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": n.title,
                       "color": match n.severity { Severity::Critical => "Attention", Severity::Warning => "Warning", Severity::Info => "Default" }}),
                json!({"type": "TextBlock", "wrap": true, "text": n.text}),
            ];
            if !facts.is_empty() {
                body.push(json!({"type": "FactSet", "facts": facts}));
            }
            let actions: Vec<Value> = n
                .link
                .iter()
                .map(|l| json!({"type": "Action.OpenUrl", "title": "Open in Watchkeeper", "url": l}))
                .collect();
            json!({"type": "message", "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                            "version": "1.4", "body": body, "actions": actions}
            }]})
        }
        // Mattermost takes Slack's incoming-webhook format, attachments included.
        ChannelKind::Slack | ChannelKind::Mattermost => {
            let fields: Vec<Value> =
                n.facts.iter().map(|(k, v)| json!({"title": k, "value": v, "short": true})).collect();
            let mut attachment = json!({"fallback": n.title, "color": n.severity.colour(), "title": n.title,
                                        "text": n.text, "fields": fields});
            if let Some(l) = &n.link {
                attachment["title_link"] = json!(l);
            }
            let mut out = json!({"text": n.title, "attachments": [attachment]});
            if kind == ChannelKind::Mattermost {
                out["username"] = json!("Watchkeeper");
            }
            out
        }
        ChannelKind::Email => json!({"subject": n.title, "body": email_text(n)}),
    }
}

/// The plain-text body of the e-mail for `notice`.
pub fn email_text(n: &Notice) -> String {
    let mut out = format!("{}\n\n{}\n", n.title, n.text);
    if !n.facts.is_empty() {
        out.push('\n');
        let width = n.facts.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (k, v) in &n.facts {
            out.push_str(&format!("{k:width$}  {v}\n"));
        }
    }
    if let Some(l) = &n.link {
        out.push_str(&format!("\n{l}\n"));
    }
    out
}

/// Checks a channel's target: e-mail addresses separated by commas, or an `http(s)` URL.
pub fn check_target(kind: ChannelKind, target: &str) -> Result<(), String> {
    let target = target.trim();
    match kind {
        ChannelKind::Email => {
            let addresses: Vec<&str> = target.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
            if addresses.is_empty() {
                return Err("one or more e-mail addresses, separated by commas".into());
            }
            for a in addresses {
                a.parse::<Mailbox>().map_err(|_| format!("`{a}` is not an e-mail address"))?;
            }
            Ok(())
        }
        _ => {
            let url = reqwest::Url::parse(target).map_err(|_| "the webhook's URL, http:// or https://".to_owned())?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err("the webhook's URL, http:// or https://".into());
            }
            Ok(())
        }
    }
}

/// A target as people may see it: addresses as they are, a webhook as its scheme and host
/// (the path carries the webhook's secret).
pub fn shown_target(kind: ChannelKind, target: &str) -> String {
    match kind {
        ChannelKind::Email => target.trim().to_owned(),
        _ => match reqwest::Url::parse(target.trim()) {
            Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
            Err(_) => "(not a URL)".into(),
        },
    }
}

/// How the SMTP relay is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the host or a trusted segment).
    #[default]
    None,
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// The site's SMTP relay.
#[derive(Clone, Serialize, Deserialize)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for Smtp {
    // The password never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("no SMTP relay is configured ([notify.smtp] in the configuration file)")]
    NoSmtp,
    #[error("{0}")]
    Target(String),
    #[error("the SMTP relay refused or failed: {0}")]
    Smtp(String),
    #[error("the webhook answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("cannot reach the webhook: {0}")]
    Http(String),
}

/// Sends notices. One per server; cheap to clone.
#[derive(Clone)]
pub struct Courier {
    http: reqwest::Client,
    smtp: Option<Smtp>,
    timeout: Duration,
}

impl Courier {
    /// A courier that gives up on a target after `timeout` (a down target never holds a
    /// notification queue for long).
    pub fn new(smtp: Option<Smtp>, timeout: Duration) -> Result<Courier, NotifyError> {
        // The process may have installed one already (the server's TLS listener).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Watchkeeper/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError::Http(e.without_url().to_string()))?;
        Ok(Courier { http, smtp, timeout })
    }

    /// Delivers `notice` to one target; on success, what the other side said.
    pub async fn deliver(&self, kind: ChannelKind, target: &str, notice: &Notice) -> Result<String, NotifyError> {
        check_target(kind, target).map_err(NotifyError::Target)?;
        match kind {
            ChannelKind::Email => self.mail(target, notice).await,
            _ => self.post(kind, target, notice).await,
        }
    }

    async fn post(&self, kind: ChannelKind, url: &str, notice: &Notice) -> Result<String, NotifyError> {
        let r = self
            .http
            .post(url.trim())
            .json(&webhook_body(kind, notice))
            .send()
            .await
            .map_err(|e| NotifyError::Http(e.without_url().to_string()))?;
        let status = r.status();
        let body: String = r.text().await.unwrap_or_default().chars().take(200).collect();
        if status.is_success() {
            Ok(format!("{}", status.as_u16()))
        } else {
            Err(NotifyError::Status { status: status.as_u16(), body })
        }
    }

    async fn mail(&self, to: &str, notice: &Notice) -> Result<String, NotifyError> {
        let smtp = self.smtp.as_ref().ok_or(NotifyError::NoSmtp)?;
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|_| NotifyError::Target(format!("the sender `{}` is not an e-mail address", smtp.from)))?;
        let mut message = lettre::Message::builder().from(from).subject(notice.title.replace(['\r', '\n'], " "));
        for a in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            message =
                message.to(a.parse().map_err(|_| NotifyError::Target(format!("`{a}` is not an e-mail address")))?);
        }
        let message = message
            .header(ContentType::TEXT_PLAIN)
            .body(email_text(notice))
            .map_err(|e| NotifyError::Smtp(e.to_string()))?;
        let builder = match smtp.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| NotifyError::Smtp(e.to_string()))?,
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| NotifyError::Smtp(e.to_string()))?
            }
        };
        let mut builder = builder.port(smtp.port).timeout(Some(self.timeout));
        if let (Some(u), Some(p)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let response = builder.build().send(message).await.map_err(|e| NotifyError::Smtp(e.to_string()))?;
        Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            title: "INC0000042 P1 resolution breached".into(),
            text: "pn-core-sw1 down, plant north cell network dark".into(),
            severity: Severity::Critical,
            link: Some("https://wk.example/incidents/INC0000042".into()),
            facts: vec![("Priority".into(), "P1".into()), ("Assigned".into(), "L3 network / erin".into())],
        }
    }

    #[test]
    fn each_chat_gets_its_own_shape() {
        let t = webhook_body(ChannelKind::Teams, &notice());
        let card = &t["attachments"][0];
        assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(card["content"]["body"][0]["text"], "INC0000042 P1 resolution breached");
        assert_eq!(card["content"]["body"][2]["facts"][1]["value"], "L3 network / erin");
        assert_eq!(card["content"]["actions"][0]["url"], "https://wk.example/incidents/INC0000042");
        let s = webhook_body(ChannelKind::Slack, &notice());
        assert_eq!(s["text"], "INC0000042 P1 resolution breached");
        assert_eq!(s["attachments"][0]["color"], "#c62828");
        assert_eq!(s["attachments"][0]["fields"][0], json!({"title": "Priority", "value": "P1", "short": true}));
        assert!(s.get("username").is_none());
        assert_eq!(webhook_body(ChannelKind::Mattermost, &notice())["username"], "Watchkeeper");
    }

    #[test]
    fn targets_are_checked_and_webhook_secrets_not_shown() {
        assert!(check_target(ChannelKind::Email, "noc@plant.example, lead@plant.example").is_ok());
        assert!(
            check_target(ChannelKind::Email, "noc@plant.example, not an address")
                .unwrap_err()
                .contains("not an address")
        );
        assert!(check_target(ChannelKind::Email, " , ").is_err());
        assert!(check_target(ChannelKind::Teams, "ftp://x/y").is_err());
        assert!(check_target(ChannelKind::Slack, "hooks.example/T000").is_err());
        let url = "https://chat.plant.example/hooks/s3cr3t-token";
        assert!(check_target(ChannelKind::Mattermost, url).is_ok());
        assert_eq!(shown_target(ChannelKind::Mattermost, url), "https://chat.plant.example/…");
    }

    #[test]
    fn the_mail_reads_as_a_summary() {
        let text = email_text(&notice());
        assert!(text.starts_with("INC0000042 P1 resolution breached\n\npn-core-sw1 down"), "{text}");
        assert!(text.contains("Priority  P1\nAssigned  L3 network / erin\n"), "{text}");
        assert!(text.ends_with("https://wk.example/incidents/INC0000042\n"), "{text}");
    }

    #[tokio::test]
    async fn a_target_that_is_down_fails_fast_with_no_secret_in_the_error() {
        // A port nobody listens on: bind one, learn it, drop it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let c = Courier::new(None, Duration::from_secs(2)).unwrap();
        let url = format!("http://127.0.0.1:{port}/hooks/s3cr3t");
        let e = c.deliver(ChannelKind::Slack, &url, &notice()).await.unwrap_err();
        assert!(matches!(e, NotifyError::Http(_)), "{e}");
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let e = c.deliver(ChannelKind::Email, "noc@plant.example", &notice()).await.unwrap_err();
        assert!(matches!(e, NotifyError::NoSmtp), "{e}");
    }
}
