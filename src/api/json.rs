//! Atlas response bodies: keys in alphabetical order (struct fields are
//! declared in that order), as Atlas serializes them; see
//! [`super::render`] for how they are written out.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::model::names::name_or_none;
use crate::model::{DatabaseUser, Label, Role, Scope};
use crate::store::CertRecord;

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded for use as one URL path segment.
pub fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A timestamp as Atlas writes it: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    // Times here are UTC with years 1950..=9999, which always format.
    t.to_offset(time::UtcOffset::UTC)
        .format(format)
        .expect("a certificate time formats")
}

/// A link in a `links` array.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// The URL.
    pub href: String,
    /// The relation: `self`, `next` or `previous`.
    pub rel: &'static str,
}

/// Largest `itemsPerPage` Atlas accepts.
pub const MAX_ITEMS_PER_PAGE: u32 = 500;

/// Pagination as Atlas's list endpoints take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Whether `totalCount` is included.
    pub include_count: bool,
    /// Page size, 1..=500.
    pub items_per_page: u32,
    /// 1-based page number.
    pub page_num: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            include_count: true,
            items_per_page: 100,
            page_num: 1,
        }
    }
}

/// A page of a list, as every Atlas list endpoint answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The `self` link, repeating the paging parameters.
    pub links: Vec<Link>,
    /// The items on this page.
    pub results: Vec<T>,
    /// The HTTP status, present only with `envelope=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The number of items over all pages, unless `includeCount=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<usize>,
}

impl Paging {
    /// The items of the page this selects.
    pub fn select<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        let skip =
            (self.page_num.saturating_sub(1) as usize).saturating_mul(self.items_per_page as usize);
        items
            .into_iter()
            .skip(skip)
            .take(self.items_per_page as usize)
            .collect()
    }
}

/// What the command line's lists carry as their request's query: what
/// the Atlas CLI asks for.
pub const CLI_QUERY: &[(&str, &str)] = &[("includeCount", "true")];

impl<T> Page<T> {
    /// The page of `items` that `paging` selects. `url` is the list's URL
    /// without query and `query` the request's own parameters: the `self`
    /// link keeps them in their order and appends `pageNum` and
    /// `itemsPerPage`; `next` (when more pages exist) and `previous` (after
    /// the first) keep them too and end in `itemsPerPage` and `pageNum`.
    pub fn of<K: AsRef<str>, V: AsRef<str>>(
        items: Vec<T>,
        paging: Paging,
        url: &str,
        query: &[(K, V)],
    ) -> Page<T> {
        let total = items.len();
        let results = paging.select(items);
        let href = |tail: [(&str, u32); 2]| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                if !matches!(k.as_ref(), "pageNum" | "itemsPerPage") {
                    q.append_pair(k.as_ref(), v.as_ref());
                }
            }
            for (k, v) in tail {
                q.append_pair(k, &v.to_string());
            }
            format!("{url}?{}", q.finish())
        };
        let (page, size) = (paging.page_num, paging.items_per_page);
        let mut links = vec![Link {
            href: href([("pageNum", page), ("itemsPerPage", size)]),
            rel: "self",
        }];
        if (page as usize).saturating_mul(size as usize) < total {
            links.push(Link {
                href: href([("itemsPerPage", size), ("pageNum", page.saturating_add(1))]),
                rel: "next",
            });
        }
        if page > 1 {
            links.push(Link {
                href: href([("itemsPerPage", size), ("pageNum", page - 1)]),
                rel: "previous",
            });
        }
        Page {
            links,
            results,
            status: None,
            total_count: paging.include_count.then_some(total),
        }
    }
}

/// One certificate in the list body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertEntry {
    /// The serial number.
    #[serde(rename = "_id")]
    pub id: u64,
    /// notBefore.
    pub created_at: String,
    /// The project.
    pub group_id: String,
    /// notAfter.
    pub not_after: String,
    /// The RFC 2253 subject.
    pub subject: String,
}

impl From<&CertRecord> for CertEntry {
    fn from(r: &CertRecord) -> Self {
        CertEntry {
            id: r.serial,
            created_at: timestamp(r.created_at),
            group_id: r.project_id.clone(),
            not_after: timestamp(r.not_after),
            subject: r.subject.clone(),
        }
    }
}

/// A database user in the Admin API's shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntry {
    #[serde(rename = "awsIAMType")]
    aws_iam_type: &'static str,
    database_name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_after_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    group_id: String,
    labels: Vec<Label>,
    ldap_auth_type: &'static str,
    links: Vec<Link>,
    oidc_auth_type: &'static str,
    roles: Vec<Role>,
    scopes: Vec<Scope>,
    username: String,
    #[serde(rename = "x509Type")]
    x509_type: &'static str,
}

impl UserEntry {
    /// The entry for `user` of project `group_id`; `api_root` (such as
    /// `http://localhost:8080/api/atlas/v2`) starts its `self` link.
    pub fn new(group_id: &str, user: &DatabaseUser, api_root: &str) -> UserEntry {
        let href = format!(
            "{api_root}/groups/{group_id}/databaseUsers/{}/{}",
            user.database(),
            path_segment(&user.username)
        );
        let fields = user.kind.fields();
        UserEntry {
            aws_iam_type: name_or_none(fields.aws_iam),
            database_name: user.database().name(),
            delete_after_date: user.details.delete_after_date.map(timestamp),
            description: user.details.description.clone(),
            group_id: group_id.to_string(),
            labels: user.details.labels.clone(),
            ldap_auth_type: name_or_none(fields.ldap),
            links: vec![Link { href, rel: "self" }],
            oidc_auth_type: name_or_none(fields.oidc),
            roles: user.roles.clone(),
            scopes: user.details.scopes.clone(),
            username: user.username.clone(),
            x509_type: name_or_none(fields.x509),
        }
    }
}

/// `{"content": ..., "status": ...}`, Atlas's `envelope=true` wrapper for
/// a single entity.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope<T> {
    /// The entity.
    pub content: T,
    /// The HTTP status.
    pub status: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::render;

    #[test]
    fn pretty_is_jackson_style() {
        let page = Page::of(vec![1u32, 2], Paging::default(), "http://h/x", CLI_QUERY);
        assert_eq!(
            render(&page, true),
            "{\n  \"links\" : [ {\n    \"href\" : \"http://h/x?includeCount=true&pageNum=1&itemsPerPage=100\",\n    \"rel\" : \"self\"\n  } ],\n  \"results\" : [ 1, 2 ],\n  \"totalCount\" : 2\n}"
        );
        let empty: Page<u32> = Page::of(vec![], Paging::default(), "u", CLI_QUERY);
        assert!(render(&empty, true).contains("\"results\" : [ ],"));
        assert_eq!(
            render(
                &Envelope {
                    content: [(); 0],
                    status: 200
                },
                false
            ),
            r#"{"content":[],"status":200}"#
        );
    }

    #[test]
    fn paging_selects_and_counts() {
        let paging = Paging {
            include_count: false,
            items_per_page: 2,
            page_num: 2,
        };
        let query = [
            ("pretty", "true"),
            ("pageNum", "2"),
            ("includeCount", "false"),
        ];
        let page = Page::of((1..=5).collect(), paging, "u", &query);
        assert_eq!(page.results, vec![3, 4]);
        assert_eq!(
            render(&page, false),
            r#"{"links":[{"href":"u?pretty=true&includeCount=false&pageNum=2&itemsPerPage=2","rel":"self"},{"href":"u?pretty=true&includeCount=false&itemsPerPage=2&pageNum=3","rel":"next"},{"href":"u?pretty=true&includeCount=false&itemsPerPage=2&pageNum=1","rel":"previous"}],"results":[3,4]}"#
        );
        let last = Page::of((1..=4).collect::<Vec<u32>>(), paging, "u", &[("a", "b")]);
        let rels: Vec<&str> = last.links.iter().map(|l| l.rel).collect();
        assert_eq!(rels, ["self", "previous"], "no next on the last page");
        let only: Page<u32> = Page::of(vec![1], Paging::default(), "u", &[] as &[(&str, &str)]);
        assert_eq!(only.links.len(), 1);
        assert_eq!(only.links[0].href, "u?pageNum=1&itemsPerPage=100");
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("a b/c,d~é"), "a%20b%2Fc%2Cd~%C3%A9");
    }
}
