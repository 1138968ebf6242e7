//! Syslog in, pure: RFC 5424 and RFC 3164 (read loosely, as network devices write it —
//! Cisco's sequence numbers, `*` for an unsynchronised clock, a missing hostname) into one
//! [`Message`], and the framing of a TCP stream (RFC 6587: octet counting, or a line feed
//! after each message — told apart per frame by its first byte, as rsyslog does).

/// One syslog message as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// 0 kern … 16–23 local0–7.
    pub facility: u8,
    /// 0 emerg … 7 debug.
    pub severity: u8,
    /// When the sender says it happened (epoch ms), if it says so in a way that reads.
    pub timestamp: Option<i64>,
    /// The sender's name for itself (RFC 5424 HOSTNAME, RFC 3164's host), if given.
    pub hostname: Option<String>,
    /// RFC 5424 APP-NAME or RFC 3164's tag.
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    /// RFC 5424 MSGID.
    pub msg_id: Option<String>,
    /// RFC 5424 structured data as written (`[origin@32473 ip="192.0.2.10"]`), if any.
    pub structured_data: Option<String>,
    /// The text.
    pub msg: String,
    /// 5424 or 3164.
    pub rfc: u16,
}

/// Why a frame is not syslog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogError {
    Empty,
    NoPriority,
    BadPriority(String),
    TooLong(usize),
}

impl std::fmt::Display for SyslogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyslogError::Empty => write!(f, "empty message"),
            SyslogError::NoPriority => write!(f, "no <PRI> at the start"),
            SyslogError::BadPriority(p) => write!(f, "priority <{p}> is not 0–191"),
            SyslogError::TooLong(n) => write!(f, "{n} bytes; at most {MAX_MESSAGE} are read"),
        }
    }
}

/// The longest message read (RFC 5425 lets receivers set it; rsyslog's default is 8 KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Reads one message. `now` and `tz` give RFC 3164's missing year and zone: the year that
/// puts the instant nearest before `now` (a December message read in January is last year's).
pub fn parse(frame: &[u8], now: i64, tz: &jiff::tz::TimeZone) -> Result<Message, SyslogError> {
    if frame.len() > MAX_MESSAGE {
        return Err(SyslogError::TooLong(frame.len()));
    }
    let text = String::from_utf8_lossy(frame);
    let text = text.trim_end_matches(['\n', '\r', '\0']);
    if text.trim().is_empty() {
        return Err(SyslogError::Empty);
    }
    let rest = text.trim_start().strip_prefix('<').ok_or(SyslogError::NoPriority)?;
    let close = rest.find('>').filter(|&i| i > 0 && i <= 3).ok_or(SyslogError::NoPriority)?;
    let pri_text = &rest[..close];
    let pri: u8 = pri_text
        .parse()
        .ok()
        .filter(|p| *p <= 191 && pri_text.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| SyslogError::BadPriority(pri_text.to_owned()))?;
    let body = &rest[close + 1..];
    let (facility, severity) = (pri / 8, pri % 8);
    if let Some(after) = body.strip_prefix("1 ") {
        Ok(rfc5424(after, facility, severity))
    } else {
        Ok(rfc3164(body, facility, severity, now, tz))
    }
}

fn nil(field: &str) -> Option<String> {
    (field != "-" && !field.is_empty()).then(|| field.to_owned())
}

fn rfc5424(s: &str, facility: u8, severity: u8) -> Message {
    let mut parts = s.splitn(6, ' ');
    let timestamp = parts.next().and_then(|t| t.parse::<jiff::Timestamp>().ok()).map(|t| t.as_millisecond());
    let hostname = parts.next().and_then(nil);
    let app_name = parts.next().and_then(nil);
    let proc_id = parts.next().and_then(nil);
    let msg_id = parts.next().and_then(nil);
    let rest = parts.next().unwrap_or("");
    let (structured_data, msg) = structured(rest);
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg).to_owned();
    Message { facility, severity, timestamp, hostname, app_name, proc_id, msg_id, structured_data, msg, rfc: 5424 }
}

/// Splits RFC 5424's STRUCTURED-DATA (`-` or `[…]…`, with `\]` escaped inside values) from MSG.
fn structured(s: &str) -> (Option<String>, &str) {
    if let Some(msg) = s.strip_prefix('-') {
        return (None, msg.strip_prefix(' ').unwrap_or(msg));
    }
    if !s.starts_with('[') {
        return (None, s);
    }
    let bytes = s.as_bytes();
    let (mut i, mut depth, mut quoted, mut escaped) = (0, 0, false, false);
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'[' if !quoted => depth += 1,
            b']' if !quoted => {
                depth -= 1;
                // The end of the structured data: the next character is not another element.
                if depth == 0 && bytes.get(i + 1) != Some(&b'[') {
                    let msg = &s[i + 1..];
                    return (Some(s[..=i].to_owned()), msg.strip_prefix(' ').unwrap_or(msg));
                }
            }
            _ => {}
        }
        i += 1;
    }
    (Some(s.to_owned()), "")
}

/// RFC 3164 and what devices make of it: `Mmm dd hh:mm:ss host tag[pid]: text`, where Cisco
/// may put a sequence number first (`521: `), a `*` or `.` before an unsynchronised time,
/// milliseconds after it, a year, or no host at all.
fn rfc3164(s: &str, facility: u8, severity: u8, now: i64, tz: &jiff::tz::TimeZone) -> Message {
    let mut rest = s.trim_start();
    // A Cisco sequence number: digits and a colon.
    if let Some((seq, after)) = rest.split_once(": ")
        && !seq.is_empty()
        && seq.chars().all(|c| c.is_ascii_digit())
    {
        rest = after;
    }
    let (timestamp, after) = bsd_time(rest, now, tz);
    rest = after;
    let mut hostname = None;
    let mut app_name = None;
    let mut proc_id = None;
    // Host then tag, or only a tag (`IOS: …`), or a Cisco host with its own time
    // (`router1: *Nov 14 08:30:56.699: %LINK-…`).
    let first_word = rest.split(' ').next().unwrap_or("");
    if timestamp.is_some() && !first_word.is_empty() && !first_word.ends_with(':') && !first_word.starts_with('%') {
        hostname = Some(first_word.to_owned());
        rest = rest[first_word.len()..].trim_start();
    }
    if let Some((tag, after)) = rest.split_once(": ") {
        let tag_ok = !tag.is_empty() && tag.len() <= 48 && !tag.contains(' ') && !tag.starts_with('%');
        if tag_ok {
            match tag.split_once('[') {
                Some((name, pid)) => {
                    app_name = Some(name.to_owned());
                    proc_id = Some(pid.trim_end_matches(']').to_owned());
                }
                None if hostname.is_none() && timestamp.is_none() => hostname = Some(tag.to_owned()),
                None => app_name = Some(tag.to_owned()),
            }
            rest = after;
        }
    }
    // Cisco's own time after the host: skip it, keep the header's.
    let (own, after) = bsd_time(rest.trim_start_matches(['*', '.']), now, tz);
    let timestamp = timestamp.or(own);
    if own.is_some() {
        rest = after.trim_start_matches(':').trim_start();
    }
    Message {
        facility,
        severity,
        timestamp,
        hostname,
        app_name,
        proc_id,
        msg_id: None,
        structured_data: None,
        msg: rest.to_owned(),
        rfc: 3164,
    }
}

/// `Mmm dd hh:mm:ss[.fff][ yyyy]` (day space-padded or not, `*` or `.` first), and the rest.
fn bsd_time<'a>(s: &'a str, now: i64, tz: &jiff::tz::TimeZone) -> (Option<i64>, &'a str) {
    let t = s.trim_start_matches(['*', '.']);
    let Some(month) = MONTHS.iter().position(|m| t.starts_with(m)) else { return (None, s) };
    let mut words = t[3..].split_whitespace();
    let (Some(day), Some(clock)) = (words.next(), words.next()) else { return (None, s) };
    let clock = clock.trim_end_matches(':');
    let (Ok(day), Some((hms, frac))) = (day.parse::<i8>(), Some(clock.split_once('.').unwrap_or((clock, "")))) else {
        return (None, s);
    };
    let hms: Vec<i8> = hms.split(':').filter_map(|x| x.parse().ok()).collect();
    if hms.len() != 3 {
        return (None, s);
    }
    // Where the time ends in the original text.
    let end = t.find(clock).map_or(t.len(), |i| i + clock.len());
    let mut rest = t[end..].trim_start_matches(':');
    let mut year = None;
    if let Some(y) =
        rest.split_whitespace().next().and_then(|w| w.parse::<i16>().ok()).filter(|y| (1990..2200).contains(y))
    {
        year = Some(y);
        rest = rest.trim_start()[4..].trim_start_matches(':');
    }
    let millis: i32 = frac
        .chars()
        .take(3)
        .collect::<String>()
        .parse::<i32>()
        .map_or(0, |m| m * 10i32.pow(3 - frac.len().min(3) as u32));
    let month = i8::try_from(month + 1).unwrap_or(1);
    let now_year = jiff::Timestamp::from_millisecond(now).map_or(2026, |t| t.to_zoned(tz.clone()).year());
    let at = |y: i16| {
        // `DateTime::new` refuses a day or hour that does not exist (`datetime` would panic).
        jiff::civil::DateTime::new(y, month, day, hms[0], hms[1], hms[2], millis * 1_000_000)
            .ok()?
            .to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    };
    let ts = match year {
        Some(y) => at(y),
        // No year: this year's, unless that is more than a day ahead of now (then last year's).
        None => at(now_year).and_then(|t| if t > now + 86_400_000 { at(now_year - 1) } else { Some(t) }),
    };
    match ts {
        Some(t) => (Some(t), rest.strip_prefix(' ').unwrap_or(rest)),
        None => (None, s),
    }
}

/// Cuts a TCP stream into messages: octet counting (`LEN SP MSG`) when a frame starts with a
/// digit, otherwise up to a line feed (or NUL). Bytes arrive in any pieces.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Where the bytes not yet framed start: frames are taken by moving this on, and the
    /// buffer is compacted once per push, not once per frame (a 64 KiB read holds hundreds).
    at: usize,
}

/// What the framer found in the bytes so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Message(Vec<u8>),
    /// A frame that cannot be read (an absurd length, a line past the limit): dropped, and
    /// the stream goes on after it.
    Bad(String),
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8]) {
        if self.at > 0 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if the bytes so far hold one.
    pub fn next_frame(&mut self) -> Option<Frame> {
        // Skip separators left between frames.
        let rest = &self.buf[self.at..];
        self.at += rest.iter().position(|b| !matches!(b, b'\n' | b'\r' | b'\0' | b' ')).unwrap_or(rest.len());
        let rest = &self.buf[self.at..];
        let first = *rest.first()?;
        if first.is_ascii_digit() {
            let Some(space) = rest.iter().take(8).position(|b| *b == b' ') else {
                if rest.len() >= 8 {
                    return Some(self.drop_line("an octet count longer than 7 digits"));
                }
                return None;
            };
            let len: usize =
                std::str::from_utf8(&rest[..space]).ok().and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
            if len > MAX_MESSAGE {
                return Some(self.drop_line("an octet count past the limit"));
            }
            if rest.len() < space + 1 + len {
                return None;
            }
            let msg = rest[space + 1..space + 1 + len].to_vec();
            self.at += space + 1 + len;
            return Some(Frame::Message(msg));
        }
        match rest.iter().position(|b| matches!(b, b'\n' | b'\0')) {
            Some(end) => {
                let msg = rest[..end].to_vec();
                self.at += end + 1;
                Some(Frame::Message(msg))
            }
            None if rest.len() > MAX_MESSAGE => {
                self.buf.clear();
                self.at = 0;
                Some(Frame::Bad("a line past the limit without an end".into()))
            }
            None => None,
        }
    }

    /// Drops up to the next line feed (or everything), saying why.
    fn drop_line(&mut self, why: &str) -> Frame {
        let rest = &self.buf[self.at..];
        self.at += rest.iter().position(|b| *b == b'\n').map_or(rest.len(), |e| e + 1);
        Frame::Bad(why.to_owned())
    }

    /// What is left when the connection closes: the last line if it had no line feed.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.buf).split_off(std::mem::take(&mut self.at));
        (!rest.iter().all(|b| b.is_ascii_whitespace() || *b == 0)).then_some(rest)
    }
}

/// The fuzz target `syslog`: any bytes as one message (then classified) and as a TCP stream
/// (every frame parsed), without a panic. Also replayed over the seeds in `cargo test`.
pub fn fuzz_one(data: &[u8]) {
    let tz = jiff::tz::TimeZone::UTC;
    let now = 1_795_334_400_000;
    if let Ok(m) = parse(data, now, &tz) {
        let _ = crate::classify::classify(&m);
    }
    let mut framer = Framer::default();
    for piece in data.chunks(7) {
        framer.push(piece);
        while let Some(frame) = framer.next_frame() {
            if let Frame::Message(m) = frame
                && let Ok(msg) = parse(&m, now, &tz)
            {
                let _ = crate::classify::classify(&msg);
            }
        }
    }
    let _ = framer.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    #[test]
    fn the_fuzz_seeds_replay() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/syslog");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            fuzz_one(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 2);
    }

    /// 2026-11-22T08:00:00Z.
    const NOW: i64 = 1_795_334_400_000;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn rfc5424_as_logger_sends_it() {
        let m = parse(
            b"<187>1 2026-11-22T07:17:26.193166+00:00 vm IOS - LINK-3-UPDOWN [timeQuality tzKnown=\"1\" isSynced=\"0\"][origin@32473 ip=\"192.0.2.10\"] Interface GigabitEthernet0/1, changed state to down",
            NOW,
            &TimeZone::UTC,
        )
        .unwrap();
        assert_eq!((m.facility, m.severity, m.rfc), (23, 3, 5424));
        assert_eq!(m.timestamp, Some(ms("2026-11-22T07:17:26.193Z")));
        assert_eq!(
            (m.hostname.as_deref(), m.app_name.as_deref(), m.proc_id, m.msg_id.as_deref()),
            (Some("vm"), Some("IOS"), None, Some("LINK-3-UPDOWN"))
        );
        assert_eq!(
            m.structured_data.as_deref(),
            Some("[timeQuality tzKnown=\"1\" isSynced=\"0\"][origin@32473 ip=\"192.0.2.10\"]")
        );
        assert_eq!(m.msg, "Interface GigabitEthernet0/1, changed state to down");
        let bare = parse(b"<14>1 - - - - - -", NOW, &TimeZone::UTC).unwrap();
        assert_eq!((bare.timestamp, bare.hostname, bare.msg.as_str()), (None, None, ""));
        let escaped =
            parse(b"<14>1 2026-11-22T07:00:00Z h a - - [x@1 k=\"a\\]b\"] after", NOW, &TimeZone::UTC).unwrap();
        assert_eq!(escaped.msg, "after");
    }

    #[test]
    fn rfc3164_as_devices_write_it() {
        let m = parse(b"<189>Nov 22 07:17:26 vm router1: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/0, changed state to down", NOW, &TimeZone::UTC).unwrap();
        assert_eq!((m.facility, m.severity, m.rfc), (23, 5, 3164));
        assert_eq!(m.timestamp, Some(ms("2026-11-22T07:17:26Z")));
        assert_eq!((m.hostname.as_deref(), m.app_name.as_deref()), (Some("vm"), Some("router1")));
        assert!(m.msg.starts_with("%LINEPROTO-5-UPDOWN:"), "{}", m.msg);
        // Cisco: a sequence number, a host, its own unsynchronised time with milliseconds.
        let c = parse(b"<189>521: router1: *Nov 14 08:30:56.699: %LINK-5-CHANGED: Interface GigabitEthernet2, changed state to administratively down", NOW, &TimeZone::UTC).unwrap();
        assert_eq!(c.hostname.as_deref(), Some("router1"));
        assert_eq!(c.timestamp, Some(ms("2026-11-14T08:30:56.699Z")));
        assert_eq!(c.msg, "%LINK-5-CHANGED: Interface GigabitEthernet2, changed state to administratively down");
        // Arista: agent name as the tag, day space-padded.
        let a = parse(b"<165>Feb  6 09:42:36 veos01 Ebra: %LINEPROTO-5-UPDOWN: Line protocol on Interface Ethernet1, changed state to up", NOW, &TimeZone::UTC).unwrap();
        assert_eq!((a.hostname.as_deref(), a.app_name.as_deref()), (Some("veos01"), Some("Ebra")));
        assert_eq!(a.timestamp, Some(ms("2026-02-06T09:42:36Z")));
        // A December message read on the 1st of January is last year's.
        let jan1 = ms("2027-01-01T00:10:00Z");
        assert_eq!(
            parse(b"<13>Dec 31 23:59:00 h t: x", jan1, &TimeZone::UTC).unwrap().timestamp,
            Some(ms("2026-12-31T23:59:00Z"))
        );
        // The sender's zone when it gives none.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            parse(b"<13>Nov 22 08:00:00 h t: x", NOW, &berlin).unwrap().timestamp,
            Some(ms("2026-11-22T07:00:00Z"))
        );
        // No time at all: the text kept whole.
        let plain = parse(b"<13>just words", NOW, &TimeZone::UTC).unwrap();
        assert_eq!((plain.timestamp, plain.msg.as_str()), (None, "just words"));
    }

    #[test]
    fn what_is_not_syslog_says_why() {
        assert_eq!(parse(b"", NOW, &TimeZone::UTC), Err(SyslogError::Empty));
        assert_eq!(parse(b"hello", NOW, &TimeZone::UTC), Err(SyslogError::NoPriority));
        assert_eq!(parse(b"<999>x", NOW, &TimeZone::UTC), Err(SyslogError::BadPriority("999".into())));
        assert_eq!(parse(b"<1a>x", NOW, &TimeZone::UTC), Err(SyslogError::BadPriority("1a".into())));
        assert!(matches!(parse(&vec![b'a'; MAX_MESSAGE + 1], NOW, &TimeZone::UTC), Err(SyslogError::TooLong(_))));
    }

    #[test]
    fn tcp_streams_are_framed_both_ways() {
        let mut f = Framer::default();
        let counted = b"<14>1 - h a - - - first";
        f.push(format!("{} ", counted.len()).as_bytes());
        f.push(&counted[..5]);
        assert_eq!(f.next_frame(), None, "half a frame waits");
        f.push(&counted[5..]);
        f.push(b"<13>Nov 22 07:00:00 h t: second\n<13>Nov 22 07:00:01 h t: thi");
        assert_eq!(f.next_frame(), Some(Frame::Message(counted.to_vec())));
        assert_eq!(f.next_frame(), Some(Frame::Message(b"<13>Nov 22 07:00:00 h t: second".to_vec())));
        assert_eq!(f.next_frame(), None);
        f.push(b"rd\n99999999 junk\n<13>after\n");
        assert_eq!(f.next_frame(), Some(Frame::Message(b"<13>Nov 22 07:00:01 h t: third".to_vec())));
        assert!(matches!(f.next_frame(), Some(Frame::Bad(_))));
        assert_eq!(f.next_frame(), Some(Frame::Message(b"<13>after".to_vec())));
        f.push(b"<13>no newline at close");
        assert_eq!(f.next_frame(), None);
        assert_eq!(f.finish(), Some(b"<13>no newline at close".to_vec()));
    }

    proptest::proptest! {
        /// Any bytes parse to a message or an error, never a panic.
        #[test]
        fn any_bytes_read_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&bytes, NOW, &TimeZone::UTC);
        }

        /// A stream cut anywhere frames to the same messages.
        #[test]
        fn framing_does_not_depend_on_how_bytes_arrive(msgs in proptest::collection::vec("<1[0-9]>[a-zA-Z0-9 :%-]{1,40}", 1..6), cut in 0usize..400, counted in proptest::bool::ANY) {
            let mut stream = Vec::new();
            for m in &msgs {
                if counted {
                    stream.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
                } else {
                    stream.extend_from_slice(m.as_bytes());
                    stream.push(b'\n');
                }
            }
            let cut = cut.min(stream.len());
            let mut f = Framer::default();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                f.push(part);
                while let Some(Frame::Message(m)) = f.next_frame() {
                    got.push(String::from_utf8(m).unwrap());
                }
            }
            let expected: Vec<String> = msgs.iter().map(|m| m.trim_end().to_owned()).collect();
            let got: Vec<String> = got.iter().map(|m| m.trim_end().to_owned()).collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
