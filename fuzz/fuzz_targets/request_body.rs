//! The request body parsers (certificate create, database users, project
//! API keys) and the list query parser: any input gives a value or an
//! Atlas error, never a panic.
#![no_main]

use atlas_ca::__private as api;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(months) = api::parse_create_body(data) {
        let _ = months;
    }
    // A new user names what the spec requires; a key has a description
    // and at least one role.
    if let Ok(spec) = api::parse_new_user_body(data) {
        assert!(spec.username.is_some() && spec.roles.is_some());
    }
    let _ = api::parse_user_body(data);
    if let Ok((_, roles)) = api::parse_key_body(data) {
        assert!(!roles.is_empty());
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
