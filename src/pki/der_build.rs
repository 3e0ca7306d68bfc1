//! DER written by hand, for the few structures whose every byte a seeded
//! PKI fixes (PKCS#12, a re-signed certificate, PBES2 with Triple DES),
//! and read by hand where a few fields are wanted ([`header`]).

/// A DER element: `tag`, then `content`'s length and `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    [vec![tag], length(content.len()), content.to_vec()].concat()
}

/// A DER length.
pub fn length(n: usize) -> Vec<u8> {
    if n < 0x80 {
        // Lossless: below 0x80.
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    // Lossless: a usize has at most 8 bytes.
    [vec![0x80 | bytes.len() as u8], bytes].concat()
}

/// A SEQUENCE of `parts`.
pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// An OBJECT IDENTIFIER with this encoded body.
pub fn oid(body: &[u8]) -> Vec<u8> {
    tlv(0x06, body)
}

/// An OCTET STRING.
pub fn octets(data: &[u8]) -> Vec<u8> {
    tlv(0x04, data)
}

/// A non-negative INTEGER.
pub fn integer(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

/// The header length and content length of the DER element at the start
/// of `data`.
pub fn header(data: &[u8]) -> Option<(usize, usize)> {
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let len = data
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    let end = (2 + n).checked_add(len)?;
    (data.len() >= end).then_some((2 + n, len))
}

/// The DER elements one after another in `data` (each whole: header and
/// content).
pub fn elements(mut data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (h, l) = header(data)?;
        out.push(data.get(..h + l)?);
        data = &data[h + l..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers_as_der_writes_them() {
        assert_eq!(length(0x7f), [0x7f]);
        assert_eq!(length(0x80), [0x81, 0x80]);
        assert_eq!(length(0x1234), [0x82, 0x12, 0x34]);
        assert_eq!(integer(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer(3), [0x02, 0x01, 0x03]);
        assert_eq!(integer(2048), [0x02, 0x02, 0x08, 0x00]);
        assert_eq!(integer(0x80), [0x02, 0x02, 0x00, 0x80]);
    }
}
