//! Parsing what a client sends: the create body and the list query's
//! paging parameters, with Atlas's errors for anything malformed.

use super::atlas_error::{ApiError, ErrorCode};
use super::certs::DEFAULT_MONTHS;
use super::json::{MAX_ITEMS_PER_PAGE, Paging};

/// Read-only fields of Atlas's certificate entity, which a create body may
/// carry (SDKs echo them) and which are ignored.
const READ_ONLY_FIELDS: [&str; 5] = ["_id", "createdAt", "groupId", "notAfter", "subject"];

/// Parses a create body, `{"monthsUntilExpiration": N}`, into the months;
/// an empty body means the default. Errors are Atlas's for bad JSON.
pub fn parse_create_body(body: &[u8]) -> Result<i64, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_MONTHS);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::new(ErrorCode::MalformedJson, &[]))?;
    let object = value
        .as_object()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidJson, &[]))?;
    let mut months = DEFAULT_MONTHS;
    for (key, v) in object {
        match key.as_str() {
            "monthsUntilExpiration" if v.is_null() => {}
            "monthsUntilExpiration" => {
                months = v.as_i64().ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidJsonAttribute, &["monthsUntilExpiration"])
                })?;
            }
            k if READ_ONLY_FIELDS.contains(&k) => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok(months)
}

/// Parses Atlas's list query parameters (`includeCount`, `itemsPerPage`
/// 1..=500, `pageNum` >= 1) from `(name, value)` pairs; others are ignored.
/// Booleans follow Java's `Boolean.parseBoolean`: only `true` (any case) is true.
pub fn parse_paging<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Paging, ApiError> {
    let mut paging = Paging::default();
    for (name, value) in pairs {
        let number = |lo: u32, hi: u32| {
            value
                .parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidQueryParameter, &[name]))
        };
        match name {
            "includeCount" => paging.include_count = value.eq_ignore_ascii_case("true"),
            "itemsPerPage" => paging.items_per_page = number(1, MAX_ITEMS_PER_PAGE)?,
            "pageNum" => paging.page_num = number(1, u32::MAX)?,
            _ => {}
        }
    }
    Ok(paging)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies() {
        let code = |b: &str| parse_create_body(b.as_bytes()).map_err(|e| (e.code, e.detail));
        assert_eq!(code(""), Ok(3));
        assert_eq!(code(" \n"), Ok(3));
        assert_eq!(code(r#"{"monthsUntilExpiration":12}"#), Ok(12));
        assert_eq!(
            code(r#"{"monthsUntilExpiration":null,"groupId":"x"}"#),
            Ok(3)
        );
        assert_eq!(code("{").unwrap_err().0, ErrorCode::MalformedJson);
        assert_eq!(code("[1]").unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(code(r#""12""#).unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(
            code(r#"{"monthsUntilExpiration":"12"}"#).unwrap_err(),
            (
                ErrorCode::InvalidJsonAttribute,
                "Received JSON for the monthsUntilExpiration attribute does not match expected format.".into()
            )
        );
        assert_eq!(
            code(r#"{"monthsUntilExpiration":1.5}"#).unwrap_err().0,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(
            code(r#"{"months":1}"#).unwrap_err(),
            (
                ErrorCode::InvalidAttribute,
                "Invalid attribute months specified.".into()
            )
        );
    }

    #[test]
    fn paging_parameters() {
        assert_eq!(parse_paging([]), Ok(Paging::default()));
        let p = parse_paging([
            ("includeCount", "FALSE"),
            ("itemsPerPage", "500"),
            ("pageNum", "7"),
        ])
        .unwrap();
        assert_eq!(
            (p.include_count, p.items_per_page, p.page_num),
            (false, 500, 7)
        );
        assert!(
            !parse_paging([("includeCount", "yes")])
                .unwrap()
                .include_count
        );
        for bad in [
            ("itemsPerPage", "0"),
            ("itemsPerPage", "501"),
            ("pageNum", "0"),
            ("pageNum", "x"),
        ] {
            assert_eq!(
                parse_paging([bad]).unwrap_err().code,
                ErrorCode::InvalidQueryParameter
            );
        }
    }
}
