//! SNMPv3's User-based Security Model for notifications received: users with their
//! authentication (HMAC-MD5-96, HMAC-SHA-96, HMAC-SHA-2 per RFC 7860) and privacy (CBC-DES,
//! CFB128-AES-128 per RFC 3826) passphrases, keys made from them once (RFC 3414's 1 MiB
//! password-to-key) and localized to each sender's engine ID as it is first seen — a trap is
//! authoritative at its sender, so the sender's engine ID is the one its keys are bound to.
//! For polling the other way round: a request is authoritative at the agent, so keys are
//! localized to the engine ID discovery found there, and requests are sealed ([`seal`]) and
//! answers opened ([`open_answer`]) with them.

use super::{FLAG_AUTH, FLAG_PRIV, Message, V3Header, read_scoped_pdu};
use hmac::{Mac, SimpleHmac};
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl AuthProtocol {
    /// Net-SNMP's names: MD5, SHA, SHA-224 … SHA-512.
    pub fn parse(s: &str) -> Option<AuthProtocol> {
        Some(match s.to_ascii_uppercase().as_str() {
            "MD5" => AuthProtocol::Md5,
            "SHA" | "SHA1" | "SHA-1" => AuthProtocol::Sha1,
            "SHA-224" | "SHA224" => AuthProtocol::Sha224,
            "SHA-256" | "SHA256" => AuthProtocol::Sha256,
            "SHA-384" | "SHA384" => AuthProtocol::Sha384,
            "SHA-512" | "SHA512" => AuthProtocol::Sha512,
            _ => return None,
        })
    }

    /// Bytes of the MAC a message carries.
    pub fn mac_len(self) -> usize {
        match self {
            AuthProtocol::Md5 | AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        use sha2::Digest;
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            AuthProtocol::Md5 => run::<md5::Md5>(parts),
            AuthProtocol::Sha1 => run::<sha1::Sha1>(parts),
            AuthProtocol::Sha224 => run::<sha2::Sha224>(parts),
            AuthProtocol::Sha256 => run::<sha2::Sha256>(parts),
            AuthProtocol::Sha384 => run::<sha2::Sha384>(parts),
            AuthProtocol::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn run<D: sha2::Digest + sha2::digest::core_api::BlockSizeUser>(key: &[u8], m: &[u8]) -> Vec<u8> {
            let mut mac = <SimpleHmac<D> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
            mac.update(m);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            AuthProtocol::Md5 => run::<md5::Md5>(key, message),
            AuthProtocol::Sha1 => run::<sha1::Sha1>(key, message),
            AuthProtocol::Sha224 => run::<sha2::Sha224>(key, message),
            AuthProtocol::Sha256 => run::<sha2::Sha256>(key, message),
            AuthProtocol::Sha384 => run::<sha2::Sha384>(key, message),
            AuthProtocol::Sha512 => run::<sha2::Sha512>(key, message),
        }
    }

    /// RFC 3414 A.2: the passphrase repeated over 1 MiB, hashed.
    pub fn password_to_key(self, password: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        fn run<D: Digest>(password: &[u8]) -> Vec<u8> {
            let mut d = D::new();
            let mut block = [0u8; 64];
            let mut at = 0usize;
            for _ in 0..(1_048_576 / 64) {
                for b in &mut block {
                    *b = password[at % password.len()];
                    at += 1;
                }
                d.update(block);
            }
            d.finalize().to_vec()
        }
        if password.is_empty() {
            return Vec::new();
        }
        match self {
            AuthProtocol::Md5 => run::<md5::Md5>(password),
            AuthProtocol::Sha1 => run::<sha1::Sha1>(password),
            AuthProtocol::Sha224 => run::<sha2::Sha224>(password),
            AuthProtocol::Sha256 => run::<sha2::Sha256>(password),
            AuthProtocol::Sha384 => run::<sha2::Sha384>(password),
            AuthProtocol::Sha512 => run::<sha2::Sha512>(password),
        }
    }

    /// RFC 3414 A.2.2: a key bound to one engine, `H(Ku ‖ engineID ‖ Ku)`.
    pub fn localize(self, key: &[u8], engine_id: &[u8]) -> Vec<u8> {
        self.hash(&[key, engine_id, key])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivProtocol {
    Des,
    Aes128,
}

impl PrivProtocol {
    /// Net-SNMP's names: DES, AES (AES-128).
    pub fn parse(s: &str) -> Option<PrivProtocol> {
        Some(match s.to_ascii_uppercase().as_str() {
            "DES" => PrivProtocol::Des,
            "AES" | "AES128" | "AES-128" => PrivProtocol::Aes128,
            _ => return None,
        })
    }
}

/// A user allowed to send notifications.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub auth: Option<(AuthProtocol, String)>,
    pub privacy: Option<(PrivProtocol, String)>,
}

impl fmt::Debug for User {
    // Passphrases never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("auth", &self.auth.as_ref().map(|a| a.0))
            .field("privacy", &self.privacy.as_ref().map(|p| p.0))
            .finish()
    }
}

/// Why a v3 message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsmError {
    UnknownUser(String),
    /// The message's security level is below the user's, or above what the user has keys for.
    WrongLevel(String),
    BadMac,
    Undecryptable(String),
}

impl fmt::Display for UsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsmError::UnknownUser(u) => write!(f, "unknown USM user `{u}`"),
            UsmError::WrongLevel(w) => write!(f, "security level: {w}"),
            UsmError::BadMac => f.write_str("the authentication code does not match (wrong passphrase?)"),
            UsmError::Undecryptable(w) => write!(f, "cannot decrypt: {w}"),
        }
    }
}

impl std::error::Error for UsmError {}

/// A user's keys made from its passphrases (1 MiB of hashing each: made once), not yet bound
/// to an engine.
pub struct UserKeys {
    user: User,
    auth_ku: Vec<u8>,
    priv_ku: Vec<u8>,
}

impl fmt::Debug for UserKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserKeys").field("user", &self.user).finish()
    }
}

impl UserKeys {
    pub fn new(u: User) -> UserKeys {
        let proto = u.auth.as_ref().map(|a| a.0);
        let auth_ku = match &u.auth {
            Some((p, pass)) => p.password_to_key(pass.as_bytes()),
            None => Vec::new(),
        };
        // The privacy key is made with the authentication protocol's hash (RFC 3414 §11.2).
        let priv_ku = match (&u.privacy, proto) {
            (Some((_, pass)), Some(p)) => p.password_to_key(pass.as_bytes()),
            _ => Vec::new(),
        };
        UserKeys { user: u, auth_ku, priv_ku }
    }

    pub fn name(&self) -> &str {
        &self.user.name
    }

    /// The keys bound to one engine.
    pub fn localize(&self, engine_id: &[u8]) -> LocalKeys {
        let auth = self.user.auth.as_ref().map(|(p, _)| (*p, p.localize(&self.auth_ku, engine_id)));
        let privacy = match (&self.user.privacy, &auth) {
            (Some((pp, _)), Some((ap, _))) => Some((*pp, ap.localize(&self.priv_ku, engine_id))),
            _ => None,
        };
        LocalKeys { user: self.user.name.as_bytes().to_vec(), auth, privacy }
    }
}

/// A user's keys bound to one engine: what seals a request and opens its answer. Without
/// either key it is noAuthNoPriv (as discovery is, with no user at all).
#[derive(Clone, Default)]
pub struct LocalKeys {
    pub user: Vec<u8>,
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl LocalKeys {
    /// The same user authenticating without privacy, as a Report is sent (RFC 3414 §3.1.1).
    pub fn without_privacy(&self) -> LocalKeys {
        LocalKeys { privacy: None, ..self.clone() }
    }
}

/// `usmStatsNotInTimeWindows.0`: the Report that gives a sender this engine's boots and time.
pub const NOT_IN_TIME_WINDOWS: &str = "1.3.6.1.6.3.15.1.1.2.0";
/// `usmStatsUnknownEngineIDs.0`: the Report that answers discovery with this engine's ID.
pub const UNKNOWN_ENGINE_IDS: &str = "1.3.6.1.6.3.15.1.1.4.0";

/// This receiver's own engine, authoritative for the informs sent to it: its ID, and its
/// boots, which must grow with each start (the start's Unix second does, until 2038).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEngine {
    pub id: Vec<u8>,
    pub boots: i64,
}

impl LocalEngine {
    /// An ID in RFC 3411's text format (enterprise 0, format 4) from the host's name.
    pub fn for_host(host: &str, started_unix_s: i64) -> LocalEngine {
        let mut id = vec![0x80, 0x00, 0x00, 0x00, 0x04];
        id.extend(format!("watchkeeper:{host}").bytes().take(27));
        LocalEngine { id, boots: started_unix_s.clamp(1, i64::from(i32::MAX)) }
    }

    /// The engine as it stands `uptime_s` seconds after its start.
    pub fn at(&self, uptime_s: i64) -> Engine {
        Engine { id: self.id.clone(), boots: self.boots, time: uptime_s.clamp(0, i64::from(i32::MAX)) }
    }

    /// RFC 3414 §3.2 step 7b: a message authoritative here is timely when it names this
    /// boot and a time within 150 seconds of this engine's.
    pub fn in_time_window(&self, h: &V3Header, uptime_s: i64) -> bool {
        h.engine_id == self.id && h.engine_boots == self.boots && (h.engine_time - uptime_s).abs() <= 150
    }
}

/// A Report of one USM counter (`oid` at `count`), answering the message `msg_id` whose PDU
/// had `request_id`: unauthenticated for discovery, authenticated with `keys` otherwise.
pub fn report(keys: &LocalKeys, engine: &Engine, msg_id: i64, request_id: i64, oid: &str, count: u32) -> Vec<u8> {
    let pdu = super::Pdu {
        kind: super::PduKind::Report,
        request_id,
        error_status: 0,
        error_index: 0,
        varbinds: vec![super::VarBind {
            oid: super::Oid::parse(oid).unwrap_or_default(),
            value: super::Value::Counter32(count),
        }],
        v1: None,
    };
    seal(keys, engine, msg_id, &pdu, 0)
}

impl fmt::Debug for LocalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeys").field("user", &String::from_utf8_lossy(&self.user)).finish()
    }
}

/// The engine a request is authoritative at, as discovery (or its last answer) told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Engine {
    pub id: Vec<u8>,
    pub boots: i64,
    pub time: i64,
}

/// Writes a v3 message: the scoped PDU encrypted when the keys have privacy, the message
/// authenticated when they have authentication; reportable when it asks for an answer (a
/// request or an inform, so the other side says why it refuses one), not when it is one.
/// `salt` must not repeat under one key (a counter started at random does).
pub fn seal(keys: &LocalKeys, engine: &Engine, msg_id: i64, pdu: &super::Pdu, salt: u64) -> Vec<u8> {
    seal_in_context(keys, engine, msg_id, pdu, salt, (&engine.id, b""))
}

/// [`seal`] with a scoped PDU in the given context (engine ID, name): an answer echoes its
/// request's, which the sender matches it by.
pub fn seal_in_context(
    keys: &LocalKeys,
    engine: &Engine,
    msg_id: i64,
    pdu: &super::Pdu,
    salt: u64,
    context: (&[u8], &[u8]),
) -> Vec<u8> {
    use super::PduKind;
    use super::ber::{self, tlv};
    let confirmed =
        matches!(pdu.kind, PduKind::Get | PduKind::GetNext | PduKind::GetBulk | PduKind::Set | PduKind::Inform);
    let mut flags = if confirmed { super::FLAG_REPORTABLE } else { 0 };
    let mut scoped = tlv(ber::OCTET_STRING, context.0);
    scoped.extend(tlv(ber::OCTET_STRING, context.1));
    scoped.extend(super::encode_pdu(pdu));
    let scoped = tlv(ber::SEQUENCE, &scoped);
    let (priv_params, data) = match &keys.privacy {
        Some((p, key)) => {
            flags |= FLAG_PRIV;
            let (params, cipher) = encrypt(*p, key, engine, salt, scoped);
            (params, tlv(ber::OCTET_STRING, &cipher))
        }
        None => (Vec::new(), scoped),
    };
    let auth_params = match &keys.auth {
        Some((p, _)) => {
            flags |= FLAG_AUTH;
            vec![0u8; p.mac_len()]
        }
        None => Vec::new(),
    };
    let mut usm = tlv(ber::OCTET_STRING, &engine.id);
    usm.extend(ber::int(engine.boots));
    usm.extend(ber::int(engine.time));
    usm.extend(tlv(ber::OCTET_STRING, &keys.user));
    usm.extend(tlv(ber::OCTET_STRING, &auth_params));
    usm.extend(tlv(ber::OCTET_STRING, &priv_params));
    let mut global = ber::int(msg_id);
    global.extend(ber::int(65_507));
    global.extend(tlv(ber::OCTET_STRING, &[flags]));
    global.extend(ber::int(3));
    let mut body = ber::int(3);
    body.extend(tlv(ber::SEQUENCE, &global));
    body.extend(tlv(ber::OCTET_STRING, &tlv(ber::SEQUENCE, &usm)));
    body.extend(data);
    let mut message = tlv(ber::SEQUENCE, &body);
    if let Some((p, key)) = &keys.auth {
        // Where the MAC goes is found by reading back what was just written.
        if let Ok(h) = super::decode(&message).map(|m| m.v3.unwrap_or_default()) {
            let mac = p.mac(key, &message);
            let n = p.mac_len();
            if let Some(slot) = message.get_mut(h.auth_at..h.auth_at + n) {
                slot.copy_from_slice(&mac[..n]);
            }
        }
    }
    message
}

/// Reads an agent's answer to a sealed request: checks its MAC and decrypts it when it says
/// it is authenticated and encrypted. An unauthenticated answer is returned as read — only a
/// Report (discovery, or a refusal) may be one, which the caller checks.
pub fn open_answer(keys: &LocalKeys, datagram: &[u8]) -> Result<Message, UsmError> {
    let mut m = super::decode(datagram).map_err(|e| UsmError::Undecryptable(e.to_string()))?;
    let Some(h) = m.v3.as_mut() else { return Err(UsmError::WrongLevel("not an SNMPv3 message".into())) };
    if h.flags & FLAG_AUTH == 0 {
        return Ok(m);
    }
    let Some((proto, key)) = &keys.auth else {
        return Err(UsmError::WrongLevel("an authenticated answer to an unauthenticated request".into()));
    };
    verify(*proto, key, datagram, h)?;
    if let Some(data) = m.encrypted.take() {
        let Some((p, key)) = &keys.privacy else {
            return Err(UsmError::WrongLevel("an encrypted answer to a request without privacy".into()));
        };
        let plain = decrypt(*p, key, h, data)?;
        m.pdu = Some(read_scoped_pdu(&plain, h).map_err(|e| UsmError::Undecryptable(e.to_string()))?);
    }
    Ok(m)
}

/// Encrypts a scoped PDU: returns the privacy parameters (the salt) and the cipher text.
fn encrypt(p: PrivProtocol, key: &[u8], engine: &Engine, salt: u64, mut data: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    use cbc::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
    match p {
        PrivProtocol::Aes128 => {
            let params = salt.to_be_bytes().to_vec();
            let mut iv = [0u8; 16];
            iv[..4].copy_from_slice(&(engine.boots as u32).to_be_bytes());
            iv[4..8].copy_from_slice(&(engine.time as u32).to_be_bytes());
            iv[8..].copy_from_slice(&params);
            if let Ok(mut c) = cfb_mode::BufEncryptor::<aes::Aes128>::new_from_slices(&key[..16.min(key.len())], &iv) {
                c.encrypt(&mut data);
            }
            (params, data)
        }
        PrivProtocol::Des => {
            // RFC 3414 §8.1.1.1: the salt is engine boots then a local counter.
            let mut params = (engine.boots as u32).to_be_bytes().to_vec();
            params.extend((salt as u32).to_be_bytes());
            let (k, pre_iv) = (&key[..8.min(key.len())], key.get(8..16).unwrap_or_default());
            let iv: Vec<u8> = pre_iv.iter().zip(&params).map(|(a, b)| a ^ b).collect();
            data.resize(data.len().div_ceil(8) * 8, 0);
            let n = data.len();
            if let Ok(c) = cbc::Encryptor::<des::Des>::new_from_slices(k, &iv) {
                let _ = c.encrypt_padded_mut::<NoPadding>(&mut data, n);
            }
            (params, data)
        }
    }
}

/// A user's authentication and privacy keys bound to one engine, by (user, engine ID).
type Localized = HashMap<(Vec<u8>, Vec<u8>), (Vec<u8>, Vec<u8>)>;

/// The users, their keys, and keys localized per engine as senders appear.
pub struct Usm {
    users: HashMap<Vec<u8>, UserKeys>,
    localized: Localized,
}

impl fmt::Debug for Usm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Usm").field("users", &self.users.len()).finish()
    }
}

impl Usm {
    /// Makes every user's keys (1 MiB of hashing per passphrase: done once, here).
    pub fn new(users: Vec<User>) -> Usm {
        let users = users.into_iter().map(|u| (u.name.as_bytes().to_vec(), UserKeys::new(u))).collect();
        Usm { users, localized: HashMap::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// A user's keys bound to `engine_id` (this receiver's, to answer an inform).
    pub fn local_keys(&self, user: &[u8], engine_id: &[u8]) -> Option<LocalKeys> {
        self.users.get(user).map(|k| k.localize(engine_id))
    }

    /// Checks a v3 message's authentication over the datagram it came in and decrypts its
    /// PDU, so that `message.pdu` is set. Returns the user's name.
    pub fn open(&mut self, datagram: &[u8], message: &mut Message) -> Result<String, UsmError> {
        let Some(h) = message.v3.as_mut() else { return Err(UsmError::WrongLevel("not an SNMPv3 message".into())) };
        let name = String::from_utf8_lossy(&h.user).into_owned();
        let Some(keys) = self.users.get(&h.user) else { return Err(UsmError::UnknownUser(name)) };
        let wants_auth = keys.user.auth.is_some();
        let wants_priv = keys.user.privacy.is_some();
        let has_auth = h.flags & FLAG_AUTH != 0;
        let has_priv = h.flags & FLAG_PRIV != 0;
        if has_auth != wants_auth || has_priv != wants_priv || (has_priv && !has_auth) {
            return Err(UsmError::WrongLevel(format!(
                "the message is {}, user `{name}` is {}",
                level(has_auth, has_priv),
                level(wants_auth, wants_priv)
            )));
        }
        let Some((proto, _)) = keys.user.auth else { return Ok(name) };
        let slot = (h.user.clone(), h.engine_id.clone());
        let (auth_key, priv_key) = match self.localized.get(&slot) {
            Some(k) => k.clone(),
            None => (proto.localize(&keys.auth_ku, &h.engine_id), proto.localize(&keys.priv_ku, &h.engine_id)),
        };
        verify(proto, &auth_key, datagram, h)?;
        // Kept only once a message proved the keys right, so forged engine IDs cannot grow it.
        self.localized.entry(slot).or_insert_with(|| (auth_key.clone(), priv_key.clone()));
        if let (Some((p, _)), Some(data)) = (keys.user.privacy.as_ref(), message.encrypted.take()) {
            let p = *p;
            let plain = decrypt(p, &priv_key, h, data)?;
            let pdu = read_scoped_pdu(&plain, h).map_err(|e| UsmError::Undecryptable(e.to_string()))?;
            message.pdu = Some(pdu);
        }
        Ok(name)
    }
}

fn level(auth: bool, privacy: bool) -> &'static str {
    match (auth, privacy) {
        (false, _) => "noAuthNoPriv",
        (true, false) => "authNoPriv",
        (true, true) => "authPriv",
    }
}

fn verify(proto: AuthProtocol, key: &[u8], datagram: &[u8], h: &V3Header) -> Result<(), UsmError> {
    let n = proto.mac_len();
    if h.auth_params.len() != n {
        return Err(UsmError::BadMac);
    }
    let mut zeroed = datagram.to_vec();
    let Some(slot) = zeroed.get_mut(h.auth_at..h.auth_at + n) else { return Err(UsmError::BadMac) };
    slot.fill(0);
    let mac = proto.mac(key, &zeroed);
    // Constant time: a MAC is compared without telling how much of it matched.
    let diff = mac[..n].iter().zip(&h.auth_params).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff == 0 { Ok(()) } else { Err(UsmError::BadMac) }
}

fn decrypt(p: PrivProtocol, key: &[u8], h: &V3Header, mut data: Vec<u8>) -> Result<Vec<u8>, UsmError> {
    use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
    if h.priv_params.len() != 8 {
        return Err(UsmError::Undecryptable(format!("privacy parameters of {} bytes, not 8", h.priv_params.len())));
    }
    match p {
        PrivProtocol::Aes128 => {
            let Some(k) = key.get(..16) else { return Err(UsmError::Undecryptable("the key is short".into())) };
            let mut iv = [0u8; 16];
            iv[..4].copy_from_slice(&(h.engine_boots as u32).to_be_bytes());
            iv[4..8].copy_from_slice(&(h.engine_time as u32).to_be_bytes());
            iv[8..].copy_from_slice(&h.priv_params);
            // A stream, not whole blocks: the scoped PDU has any length.
            cfb_mode::BufDecryptor::<aes::Aes128>::new_from_slices(k, &iv)
                .map_err(|e| UsmError::Undecryptable(e.to_string()))?
                .decrypt(&mut data);
            Ok(data)
        }
        PrivProtocol::Des => {
            let (Some(k), Some(pre_iv)) = (key.get(..8), key.get(8..16)) else {
                return Err(UsmError::Undecryptable("the key is short".into()));
            };
            if !data.len().is_multiple_of(8) {
                return Err(UsmError::Undecryptable("DES data is not a multiple of 8 bytes".into()));
            }
            let iv: Vec<u8> = pre_iv.iter().zip(&h.priv_params).map(|(a, b)| a ^ b).collect();
            cbc::Decryptor::<des::Des>::new_from_slices(k, &iv)
                .map_err(|e| UsmError::Undecryptable(e.to_string()))?
                .decrypt_padded_mut::<NoPadding>(&mut data)
                .map_err(|e| UsmError::Undecryptable(e.to_string()))?;
            Ok(data)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// An inform's round at this receiver: discovery answered by an unauthenticated Report
    /// naming the engine, the inform's time checked against it, the answer sealed with the
    /// user's keys bound to it (and not reportable, as no answer may be).
    #[test]
    fn informs_are_answered_at_this_engine() {
        let engine = LocalEngine::for_host("nms1", 1_800_000_000);
        assert_eq!(&engine.id[..5], &[0x80, 0, 0, 0, 4]);
        let now = engine.at(42);
        let discovered = report(&LocalKeys::default(), &now, 7, 99, UNKNOWN_ENGINE_IDS, 1);
        let m = super::super::decode(&discovered).unwrap();
        let h = m.v3.clone().unwrap();
        assert_eq!(
            (h.msg_id, h.flags, h.engine_id.clone(), h.engine_boots, h.engine_time),
            (7, 0, engine.id.clone(), 1_800_000_000, 42)
        );
        let pdu = m.pdu.unwrap();
        assert_eq!((pdu.kind, pdu.request_id), (super::super::PduKind::Report, 99));
        assert_eq!(pdu.varbinds[0].oid, super::super::Oid::parse(UNKNOWN_ENGINE_IDS).unwrap());

        let mut sent = h.clone();
        assert!(engine.in_time_window(&sent, 42));
        sent.engine_time = 42 + 151;
        assert!(!engine.in_time_window(&sent, 42), "past the 150 s window");
        sent.engine_time = 42;
        sent.engine_boots -= 1;
        assert!(!engine.in_time_window(&sent, 42), "an earlier boot");

        let user = User {
            name: "trapuser".into(),
            auth: Some((AuthProtocol::Sha1, "authpass123".into())),
            privacy: Some((PrivProtocol::Aes128, "privpass123".into())),
        };
        let usm = Usm::new(vec![user]);
        let keys = usm.local_keys(b"trapuser", &engine.id).unwrap();
        let answer = report(&keys.without_privacy(), &now, 8, 5, NOT_IN_TIME_WINDOWS, 1);
        let opened = open_answer(&keys.without_privacy(), &answer).unwrap();
        assert_eq!(opened.v3.unwrap().flags, FLAG_AUTH, "authenticated, not encrypted, not reportable");
        assert!(usm.local_keys(b"nobody", &engine.id).is_none());
    }

    /// RFC 3414 A.3's test vectors: "maplesyrup" and engine ID 00…02.
    #[test]
    fn keys_match_rfc_3414() {
        let engine = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let md5 = AuthProtocol::Md5.password_to_key(b"maplesyrup");
        assert_eq!(hex(&md5), "9faf3283884e92834ebc9847d8edd963");
        assert_eq!(hex(&AuthProtocol::Md5.localize(&md5, &engine)), "526f5eed9fcce26f8964c2930787d82b");
        let sha = AuthProtocol::Sha1.password_to_key(b"maplesyrup");
        assert_eq!(hex(&sha), "9fb5cc0381497b3793528939ff788d5d79145211");
        assert_eq!(hex(&AuthProtocol::Sha1.localize(&sha, &engine)), "6695febc9288e36282235fc7151f128497b38f3f");
    }

    /// Traps `snmptrap` (net-snmp 5.9) sent with engine ID 0x8000000001020304, captured.
    const SHA_AES: &str = "3081b2020103301102046dcad12e020300ffe30401030201030436303404088000000001020304020101020303fe48\
        04087472617075736572040c320de00bbcd53717b28e85fd04084528fa1492a190c50462a76925376128fc597f9db62f2c782019836f24f5\
        83a1e1ab519f677832c1b5b2c683d781b358b628fbb70b2eada3ad53bd13b469835bcba7629d1d6e1ff4db58d4ea3cf1e300fc421b24138fc\
        3bb37146a2a923bd1faff7d36f3e3a490f3b586778c";
    const MD5_DES: &str = "3081b7020103301102045e267900020300ffe30401030201030435303304088000000001020304020101020303fe4a\
        040764657375736572040c1b11d16993621426c9522beb04080000000211c00ef904682bf2870419fb383a655c7c0ff857b2fe122afdf068\
        c8dd32ac7c8fae672ac6a8f835f5e122c9495e84f72fde839ceff8dd5815ca596a010987566ee83129cdaf9edbe37ed12ecedb390d191e7c\
        74de7598cfeb80dea8601ebb36e8c9df11178fb1afc285b19e652c";
    const SHA256_AUTH: &str = "3081a3020103301102043b695475020300ffe3040101020103043a303804088000000001020304020101020303fe4c\
        040861757468757365720418259cb3dde4e6d1c1f078027c429819a1061b53ae588fad4a0400304f041180001f8880b2cd321f8320166b00\
        0000000400a73802040e4366cd020100020100302a300f06082b06010201010300430303fe4c3017060a2b06010603010104010006092b06\
        01060301010501";

    fn user(name: &str, auth: Option<(AuthProtocol, &str)>, privacy: Option<(PrivProtocol, &str)>) -> User {
        User {
            name: name.into(),
            auth: auth.map(|(p, s)| (p, s.to_owned())),
            privacy: privacy.map(|(p, s)| (p, s.to_owned())),
        }
    }

    fn open(usm: &mut Usm, datagram: &str) -> Result<(String, super::super::Message), UsmError> {
        let bytes = super::super::tests::hex(datagram);
        let mut m = super::super::decode(&bytes).unwrap();
        usm.open(&bytes, &mut m).map(|u| (u, m))
    }

    #[test]
    fn net_snmp_traps_authenticate_and_decrypt() {
        let mut usm = Usm::new(vec![
            user("trapuser", Some((AuthProtocol::Sha1, "authpass123")), Some((PrivProtocol::Aes128, "privpass123"))),
            user("desuser", Some((AuthProtocol::Md5, "authpass123")), Some((PrivProtocol::Des, "privpass123"))),
            user("authuser", Some((AuthProtocol::Sha256, "authpass123")), None),
        ]);
        let rules = super::super::trap::standard_rules();
        for (datagram, kind, up) in [
            (SHA_AES, "interface", Some(false)),
            (MD5_DES, "interface", Some(true)),
            (SHA256_AUTH, "device.restart", None),
        ] {
            let (name, m) = open(&mut usm, datagram).unwrap();
            let e = super::super::trap::event(&m, "127.0.0.1", Some(&name), &rules, 0).unwrap();
            assert_eq!((e.kind.as_str(), e.up), (kind, up), "{name}: {e:?}");
            assert_eq!(e.fields["user"], name);
        }
    }

    #[test]
    fn wrong_keys_levels_and_users_are_refused() {
        let mut wrong = Usm::new(vec![user(
            "trapuser",
            Some((AuthProtocol::Sha1, "not the passphrase")),
            Some((PrivProtocol::Aes128, "privpass123")),
        )]);
        assert_eq!(open(&mut wrong, SHA_AES).unwrap_err(), UsmError::BadMac);
        let mut weaker = Usm::new(vec![user(
            "authuser",
            Some((AuthProtocol::Sha256, "authpass123")),
            Some((PrivProtocol::Aes128, "x")),
        )]);
        assert!(matches!(open(&mut weaker, SHA256_AUTH).unwrap_err(), UsmError::WrongLevel(_)));
        let mut nobody = Usm::new(vec![]);
        assert_eq!(open(&mut nobody, SHA_AES).unwrap_err(), UsmError::UnknownUser("trapuser".into()));
        // One flipped bit anywhere in the message breaks the MAC.
        let mut good = Usm::new(vec![user("authuser", Some((AuthProtocol::Sha256, "authpass123")), None)]);
        let mut bytes = super::super::tests::hex(SHA256_AUTH);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let mut m = super::super::decode(&bytes).unwrap();
        assert_eq!(good.open(&bytes, &mut m).unwrap_err(), UsmError::BadMac);
    }

    #[test]
    fn names_as_net_snmp_writes_them() {
        assert_eq!(AuthProtocol::parse("SHA"), Some(AuthProtocol::Sha1));
        assert_eq!(AuthProtocol::parse("sha-256"), Some(AuthProtocol::Sha256));
        assert_eq!(PrivProtocol::parse("AES"), Some(PrivProtocol::Aes128));
        assert_eq!(AuthProtocol::parse("rot13"), None);
        let u = User { name: "trapuser".into(), auth: Some((AuthProtocol::Sha1, "secret-pass".into())), privacy: None };
        assert!(!format!("{u:?}").contains("secret-pass"), "passphrases stay out of logs");
    }
}
