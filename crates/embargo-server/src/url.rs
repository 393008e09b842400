//! The one escaper for text put into a URL, as a path segment or a query value alike:
//! everything but the unreserved characters of RFC 3986 is percent-encoded.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` made safe as one component of a URL.
pub fn component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::component;

    #[test]
    fn only_unreserved_characters_pass() {
        assert_eq!(component("CLOUDSTACK-SEC-1"), "CLOUDSTACK-SEC-1");
        assert_eq!(
            component("/desk/cases/X?a=1&b"),
            "%2Fdesk%2Fcases%2FX%3Fa%3D1%26b"
        );
        assert_eq!(component("é ~"), "%C3%A9%20~");
    }
}
