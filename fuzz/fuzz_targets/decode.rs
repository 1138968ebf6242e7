//! Fuzzes the pure decoders behind every request: the strict JSON body decoder and the list
//! query convention. They must return an answer or a field error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = server::extract::decode_json::<server::api::CreateUser>(data);
    let _ = server::extract::decode_json::<server::api::CreateToken>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let pairs: Vec<(String, String)> = text
            .split('&')
            .map(|kv| kv.split_once('=').map_or((kv.to_owned(), String::new()), |(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let _ = model::list::parse(&store::ITEM_LIST, &pairs);
        let _ = app::AuditFilter::parse(&pairs);
    }
});
