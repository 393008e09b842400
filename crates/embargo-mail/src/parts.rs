//! The bytes of a MIME part as sent, after transfer decoding only: what a signature was
//! made over, what an attachment holds.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, MessagePart, PartType};

/// The bytes of a part after transfer decoding, from the raw message.
pub(crate) fn part_bytes(raw: &[u8], part: &MessagePart<'_>) -> Vec<u8> {
    match &part.body {
        // mail-parser keeps these exactly as decoded.
        PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
        // Text would come back charset-converted; decode the raw bytes ourselves.
        _ => {
            let start = (part.offset_body as usize).min(raw.len());
            let end = (part.offset_end as usize).clamp(start, raw.len());
            let slice = &raw[start..end];
            match part.encoding {
                Encoding::Base64 => base64_decode(slice).unwrap_or_else(|| slice.to_vec()),
                Encoding::QuotedPrintable => {
                    quoted_printable_decode(slice).unwrap_or_else(|| slice.to_vec())
                }
                Encoding::None => slice.to_vec(),
            }
        }
    }
}
