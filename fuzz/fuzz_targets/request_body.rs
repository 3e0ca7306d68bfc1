//! The create body and list query parsers: any input gives a value or an
//! Atlas error, never a panic.
#![no_main]

use atlas_ca::__private as api;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(months) = api::parse_create_body(data) {
        let _ = months;
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let pairs: Vec<(&str, &str)> = text
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        if let Ok(paging) = api::parse_paging(pairs) {
            assert!((1..=500).contains(&paging.items_per_page) && paging.page_num >= 1);
        }
    }
});
