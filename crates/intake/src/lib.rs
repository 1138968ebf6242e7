//! Event intake, pure: what monitoring peers send, decoded into Watchkeeper's alerts and
//! events — Alertmanager's API v2 alert batches and its webhook (version 4), syslog messages
//! (RFC 5424 and 3164, and the framing of a TCP stream) and what network devices say in them
//! (`classify`), SNMP notifications (v1, v2c, v3 with USM; `snmp`), and the DNS answers a
//! DNS check reads (`dns`). Nothing here listens, stores or decides: the server receives the
//! bytes, `app` stores what comes out. Every decoder takes arbitrary bytes without a panic
//! (fuzz targets `alerts`, `syslog`, `snmp`, `dns`).

pub mod alertmanager;
pub mod classify;
pub mod dns;
pub mod snmp;
pub mod syslog;
