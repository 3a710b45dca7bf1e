//! Character indices (what saphyr-parser's markers count) to byte offsets, in linear time.

/// Converts character indices into byte offsets of one text.
///
/// The parser reports positions in characters; slicing needs bytes. ASCII text maps one to one.
/// Otherwise a cursor walks from the last position asked for: the parser's positions move
/// forward with small steps back, so a whole stream costs a bounded number of passes.
pub(super) struct ByteOffsets<'t> {
    bytes: &'t [u8],
    ascii: bool,
    chars: usize,
    byte: usize,
}

impl<'t> ByteOffsets<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        ByteOffsets {
            bytes: text.as_bytes(),
            ascii: text.is_ascii(),
            chars: 0,
            byte: 0,
        }
    }

    /// The byte offset of character `index` (clamped to the end of the text).
    pub(super) fn byte(&mut self, index: usize) -> usize {
        if self.ascii {
            return index.min(self.bytes.len());
        }
        let is_continuation = |b: u8| b & 0xC0 == 0x80;
        while self.chars < index && self.byte < self.bytes.len() {
            self.byte += 1;
            while self.byte < self.bytes.len() && is_continuation(self.bytes[self.byte]) {
                self.byte += 1;
            }
            self.chars += 1;
        }
        while self.chars > index {
            self.byte -= 1;
            while self.byte > 0 && is_continuation(self.bytes[self.byte]) {
                self.byte -= 1;
            }
            self.chars -= 1;
        }
        self.byte
    }
}

#[cfg(test)]
mod tests {
    use super::ByteOffsets;

    #[test]
    fn maps_characters_to_bytes_in_both_directions() {
        let text = "aé€😀b";
        let mut offsets = ByteOffsets::new(text);
        let expected = [0, 1, 3, 6, 10, 11];
        for (index, byte) in expected.iter().enumerate() {
            assert_eq!(offsets.byte(index), *byte, "forward {index}");
        }
        for (index, byte) in expected.iter().enumerate().rev() {
            assert_eq!(offsets.byte(index), *byte, "backward {index}");
        }
        assert_eq!(offsets.byte(99), text.len());
        assert_eq!(offsets.byte(2), 3);
    }

    #[test]
    fn ascii_is_identity() {
        let mut offsets = ByteOffsets::new("abc");
        assert_eq!(
            (offsets.byte(2), offsets.byte(0), offsets.byte(7)),
            (2, 0, 3)
        );
    }
}
