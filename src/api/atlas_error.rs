//! Atlas error responses: the codes, their HTTP status and detail text, and
//! the JSON body Atlas sends for them.

use serde::Serialize;

use crate::model::names::atlas_enum;

atlas_enum! {
    /// An Atlas `errorCode`, with its HTTP status; its `about` is Atlas's
    /// detail template, each `%s` taking one parameter, in order.
    #[allow(missing_docs)]
    pub enum ErrorCode("errorCode", Exact) {
        GroupNotFound = "GROUP_NOT_FOUND", "No group with ID %s exists.";
        InvalidGroupId = "INVALID_GROUP_ID", "An invalid group ID %s was specified.";
        UsernameNotFound = "USERNAME_NOT_FOUND", "No user with username %s exists.";
        UserNotManagedX509 = "USER_NOT_MANAGED_X509", "The user does not have managed mode X509 enabled.";
        CannotGenerateCertIfAdvancedX509 = "CANNOT_GENERATE_CERT_IF_ADVANCED_X509", "The user cannot create managed X.509 certs if advanced mode is on.";
        CertExpiryCannotExceedTwoYears = "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS", "Atlas-generated X.509 certificates have a maximum expiration of 24 months.";
        InvalidAttribute = "INVALID_ATTRIBUTE", "Invalid attribute %s specified.";
        MalformedJson = "MALFORMED_JSON", "Received JSON is malformed.";
        InvalidJson = "INVALID_JSON", "Received JSON does not match expected format.";
        InvalidJsonAttribute = "INVALID_JSON_ATTRIBUTE", "Received JSON for the %s attribute does not match expected format.";
        AtlasGeneratedCertsLimitExceeded = "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED", "The limit on generated certificates per user has been reached.";
        AtlasManagedX509NameInvalid = "ATLAS_MANAGED_X509_NAME_INVALID", "The username %s is invalid for Atlas-managed X.509 user auth. These usernames \
                 must take the form CN=<username> with no additional OIDs.";
        UserUnauthorized = "USER_UNAUTHORIZED", "Current user is not authorized to perform this action.";
        NotInGroup = "NOT_IN_GROUP", "The current user is not in the group, or the group does not exist.";
        ResourceNotFound = "RESOURCE_NOT_FOUND", "Cannot find resource %s.";
        MethodNotAllowed = "METHOD_NOT_ALLOWED", "Method %s is not allowed for resource %s.";
        PayloadTooLarge = "PAYLOAD_TOO_LARGE", "The request body exceeds the limit of %s bytes.";
        RequestTimeout = "REQUEST_TIMEOUT", "The request body did not arrive within %s seconds.";
        InvalidQueryParameter = "INVALID_QUERY_PARAMETER", "Invalid query parameter %s specified.";
        UnexpectedError = "UNEXPECTED_ERROR", "Unexpected error.";
        UserAlreadyExists = "USER_ALREADY_EXISTS", "A database user with username %s already exists in %s.";
        DatabaseUserLimitExceeded = "DATABASE_USER_LIMIT_EXCEEDED", "The project already has the maximum of %s database users.";
        MissingAttribute = "MISSING_ATTRIBUTE", "The required attribute %s was not specified.";
        GroupAlreadyExists = "GROUP_ALREADY_EXISTS", "A group with name \"%s\" already exists.";
        ApiKeyNotFound = "API_KEY_NOT_FOUND", "No API key with ID %s exists.";
        InvalidCustomerCa = "INVALID_CUSTOMER_X509_CA", "The customer X.509 CAs are invalid: %s.";
        InvalidVersionDate = "INVALID_VERSION_DATE", "Invalid accept header or version date.";
        ServiceAccountNotFound = "SERVICE_ACCOUNT_NOT_FOUND", "No service account with client ID %s exists.";
        UserNotFound = "USER_NOT_FOUND", "No user with username %s exists.";
        DatabaseUsernameCannotBeChanged = "DATABASE_USERNAME_CANNOT_BE_CHANGED", "Cannot modify the username of an existing database user.";
        GroupNameNotFound = "GROUP_NAME_NOT_FOUND", "No group with name %s exists.";
        ClusterNotFound = "CLUSTER_NOT_FOUND", "No cluster named %s exists in group %s.";
        TeamNotFound = "TEAM_NOT_FOUND", "No team with ID %s exists.";
        // Ours, the six below: Atlas's codes are not recorded.
        LastSecret = "SERVICE_ACCOUNT_LAST_SECRET", "Secret %s is the service account's only one: make a new one, which replaces it.";
        SecretNotFound = "SERVICE_ACCOUNT_SECRET_NOT_FOUND", "No secret with ID %s exists.";
        LimitNotFound = "LIMIT_NOT_FOUND", "No project limit named %s exists.";
        LimitOutOfRange = "LIMIT_OUT_OF_RANGE", "The limit %s must be from 1 to %s.";
        ClusterLimitExceeded = "CLUSTER_LIMIT_EXCEEDED", "The project already has the maximum of %s local clusters.";
        CredentialLimitExceeded = "CREDENTIAL_LIMIT_EXCEEDED", "The organization already has the maximum of %s %s.";
    }
}

impl ErrorCode {
    /// The HTTP status Atlas answers with.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            GroupNotFound
            | InvalidGroupId
            | UsernameNotFound
            | ResourceNotFound
            | ApiKeyNotFound
            | ServiceAccountNotFound
            | GroupNameNotFound
            | LimitNotFound
            | ClusterNotFound
            | TeamNotFound
            | SecretNotFound
            | UserNotFound => 404,
            UserAlreadyExists | GroupAlreadyExists | DatabaseUsernameCannotBeChanged => 409,
            InvalidVersionDate => 406,
            UserUnauthorized | NotInGroup => 401,
            MethodNotAllowed => 405,
            PayloadTooLarge => 413,
            RequestTimeout => 408,
            UnexpectedError => 500,
            _ => 400,
        }
    }
}

/// An error as Atlas reports it: status, code, detail and parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}{}", code.name(), note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default())]
#[non_exhaustive]
pub struct ApiError {
    /// Which error.
    pub code: ErrorCode,
    /// The detail text with the parameters filled in.
    pub detail: String,
    /// The values substituted into the detail.
    pub parameters: Vec<String>,
    /// What atlas-ca knows beyond Atlas's text (shown by the command line,
    /// never in the HTTP body, which stays Atlas's).
    pub note: Option<String>,
}

impl ApiError {
    /// The error `code`, its detail filled with `parameters`.
    pub fn new(code: ErrorCode, parameters: &[&str]) -> ApiError {
        let mut detail = String::new();
        let mut rest = code.about();
        let mut values = parameters.iter();
        while let Some(i) = rest.find("%s") {
            detail.push_str(&rest[..i]);
            detail.push_str(values.next().copied().unwrap_or_default());
            rest = &rest[i + 2..];
        }
        detail.push_str(rest);
        ApiError {
            code,
            detail,
            parameters: parameters.iter().map(|p| p.to_string()).collect(),
            note: None,
        }
    }

    /// The same error with `note` added for people reading it.
    pub fn with_note(mut self, note: impl Into<String>) -> ApiError {
        self.note = Some(note.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The Atlas error body (keys in Atlas's alphabetical order).
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            detail: &self.detail,
            error: self.status(),
            error_code: self.code.name(),
            parameters: &self.parameters,
            reason: reason_phrase(self.status()),
        }
    }
}

/// The body of Atlas's Digest challenge, in the key order Atlas sends
/// (which, unlike its other error bodies, is not alphabetical).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeBody {
    error: u16,
    reason: &'static str,
    detail: &'static str,
    error_code: &'static str,
}

/// The body Atlas sends with `401` and `WWW-Authenticate: Digest ...`.
pub const CHALLENGE_BODY: ChallengeBody = ChallengeBody {
    error: 401,
    reason: "Unauthorized",
    detail: "You are not authorized for this resource.",
    error_code: "UNEXPECTED_ERROR",
};

/// The JSON body of an Atlas error.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    detail: &'a str,
    error: u16,
    error_code: &'a str,
    parameters: &'a [String],
    reason: &'a str,
}

/// The standard reason phrase Atlas puts in `reason`.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_the_recorded_atlas_error() {
        let e = ApiError::new(ErrorCode::GroupNotFound, &["111111111111111111111111"]);
        assert_eq!(
            serde_json::to_string(&e.body()).unwrap(),
            r#"{"detail":"No group with ID 111111111111111111111111 exists.","error":404,"errorCode":"GROUP_NOT_FOUND","parameters":["111111111111111111111111"],"reason":"Not Found"}"#
        );
    }

    #[test]
    fn detail_without_parameters() {
        let e = ApiError::new(ErrorCode::CertExpiryCannotExceedTwoYears, &[]);
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.to_string(),
            "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS: Atlas-generated X.509 certificates have a maximum expiration of 24 months."
        );
    }
}
