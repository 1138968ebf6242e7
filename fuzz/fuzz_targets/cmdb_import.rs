//! Fuzzes the CMDB import readers (NetBox JSON, YAML, CSV) and the planner: any bytes give a
//! document or an error naming the file, never a panic, and a document that reads always
//! plans or is refused with a location.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let (format, name) = match selector % 3 {
        0 => (exchange::Format::NetBox, "devices.json"),
        1 => (exchange::Format::Yaml, "estate.yaml"),
        _ => (exchange::Format::Csv, "items.csv"),
    };
    match exchange::read(format, name, bytes) {
        Ok(doc) => {
            let _ = exchange::plan::plan(&doc, &exchange::plan::Current::default(), "fuzz", &[]);
            if let Ok(text) = exchange::yaml::write(&doc) {
                assert!(exchange::read(exchange::Format::Yaml, "again.yaml", text.as_bytes()).is_ok(), "export reads back");
            }
        }
        Err(e) => assert!(e.to_string().starts_with(name), "{e}"),
    }
});
