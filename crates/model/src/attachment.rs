//! What may be attached to a record: the size limits, and the file's kind read from its
//! first bytes (never from the name or the type the uploader claims), so that what is served
//! back is what was checked. Text, logs, captures, documents, images and archives are taken;
//! anything else — executables, HTML, unknown binaries — is refused with the reason.

/// One file at most.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// All of one record's files together.
pub const MAX_TOTAL_BYTES: i64 = 100 * 1024 * 1024;

/// A file's kind as served back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub media_type: &'static str,
    /// What people call it: `packet capture`, `PDF`…
    pub label: &'static str,
}

const fn kind(media_type: &'static str, label: &'static str) -> Kind {
    Kind { media_type, label }
}

/// Checks a file name: something to show and to save as, without paths or control characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err("a file name, up to 200 characters".into());
    }
    if name.contains(['/', '\\']) || name.chars().any(char::is_control) || name.starts_with('.') {
        return Err(format!("`{name}`: a plain file name, without folders or control characters"));
    }
    Ok(())
}

/// The kind of `bytes`, or why it is refused.
pub fn classify(bytes: &[u8]) -> Result<Kind, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "{:.1} MiB is over the limit of {} MiB a file",
            bytes.len() as f64 / 1_048_576.0,
            MAX_BYTES / 1_048_576
        ));
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let found = if starts(b"%PDF-") {
        kind("application/pdf", "PDF")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        kind("image/png", "PNG image")
    } else if starts(b"\xff\xd8\xff") {
        kind("image/jpeg", "JPEG image")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        kind("image/gif", "GIF image")
    } else if starts(&[0xd4, 0xc3, 0xb2, 0xa1])
        || starts(&[0xa1, 0xb2, 0xc3, 0xd4])
        || starts(&[0x4d, 0x3c, 0xb2, 0xa1])
        || starts(&[0xa1, 0xb2, 0x3c, 0x4d])
    {
        kind("application/vnd.tcpdump.pcap", "packet capture")
    } else if starts(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        kind("application/x-pcapng", "packet capture (pcapng)")
    } else if starts(b"PK\x03\x04") {
        // Office documents are ZIP archives too; served as an archive, never opened here.
        kind("application/zip", "ZIP archive")
    } else if starts(&[0x1f, 0x8b]) {
        kind("application/gzip", "gzip archive")
    } else if starts(b"MZ") || starts(b"\x7fELF") || starts(b"#!") {
        return Err("executables and scripts are not taken as attachments".into());
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            "not a kind taken here: text and logs, packet captures, PDF, PNG/JPEG/GIF images, ZIP or gzip archives"
                .to_owned()
        })?;
        if text.contains('\0') {
            return Err("binary data that is not a kind taken here".into());
        }
        let head = text.trim_start().get(..64).unwrap_or(text.trim_start()).to_ascii_lowercase();
        if head.starts_with("<!doctype html")
            || head.starts_with("<html")
            || head.starts_with("<svg")
            || head.starts_with("<?xml") && text.contains("<svg")
        {
            return Err("HTML and SVG are not taken (they could run in a browser); attach a PDF or a screenshot".into());
        }
        kind("text/plain; charset=utf-8", "text")
    };
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(classify(b"%PDF-1.7\n...").unwrap().media_type, "application/pdf");
        assert_eq!(classify(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]).unwrap().label, "packet capture");
        assert_eq!(classify(b"Jan 15 08:00:01 pn-core-sw1 %LINK-3-UPDOWN: down\n").unwrap().label, "text");
        assert!(classify(b"MZ\x90\x00").unwrap_err().contains("executables"));
        assert!(classify(b"#!/bin/sh\nrm -rf /\n").unwrap_err().contains("scripts"));
        assert!(classify(b"  <!DOCTYPE html><script>").unwrap_err().contains("HTML"));
        assert!(classify(&[0, 159, 146, 150]).is_err());
        assert!(classify(b"").is_err());
        assert!(classify(&vec![b'a'; MAX_BYTES + 1]).unwrap_err().contains("over the limit"));
        assert!(check_name("show-tech.txt").is_ok());
        assert!(check_name("../etc/passwd").is_err());
        assert!(check_name(".htaccess").is_err());
    }

    proptest! {
        /// Whatever the bytes, classification answers (never panics), and what it takes as
        /// text is UTF-8 without NUL.
        #[test]
        fn any_bytes_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(k) = classify(&bytes)
                && k.label == "text"
            {
                let s = std::str::from_utf8(&bytes);
                prop_assert!(s.is_ok_and(|s| !s.contains('\0')));
            }
        }
    }
}
