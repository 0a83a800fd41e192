//! zstd with one context per thread, for the many small records of an index
//! (a token stream and a source text per content).
//!
//! Creating a context per record was 1.6 % of an index build and a visible
//! part of a scan that decodes thousands of streams; a context is reset
//! between uses and costs nothing to keep.

use std::cell::RefCell;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// `bytes` compressed at `level`, with the content size in the frame (what
/// [`decompress`] allocates by).
pub fn compress(bytes: &[u8], level: i32) -> Vec<u8> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        let z = c.get_or_insert_with(|| {
            zstd::bulk::Compressor::new(level).expect("a zstd context can be created")
        });
        z.set_compression_level(level).expect("a valid zstd level");
        z.compress(bytes).expect("zstd compresses any input")
    })
}

/// The frame decompressed, or `None` when it is not a whole zstd frame of
/// at most `max` bytes (damage). A frame without its content size (not
/// written by [`compress`]) is decoded as a stream.
pub fn decompress(bytes: &[u8], max: u64) -> Option<Vec<u8>> {
    let size = match zstd::zstd_safe::get_frame_content_size(bytes) {
        Ok(Some(size)) if size <= max => size as usize,
        Ok(Some(_)) | Err(_) => return None,
        Ok(None) => {
            let raw = zstd::stream::decode_all(bytes).ok()?;
            return (raw.len() as u64 <= max).then_some(raw);
        }
    };
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new().ok()?);
        }
        let raw = d.as_mut()?.decompress(bytes, size).ok()?;
        (raw.len() == size).then_some(raw)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage_and_oversize() {
        let text = b"static int x = 1;\n".repeat(100);
        let z = compress(&text, 3);
        assert_eq!(decompress(&z, 1 << 20).as_deref(), Some(&text[..]));
        // Reused context, another level.
        let z19 = compress(&text, 19);
        assert_eq!(decompress(&z19, 1 << 20).as_deref(), Some(&text[..]));
        assert_eq!(decompress(&z, 100), None, "larger than allowed");
        assert_eq!(decompress(&z[..z.len() / 2], 1 << 20), None);
        assert_eq!(decompress(b"not zstd", 1 << 20), None);
        let streamed = zstd::stream::encode_all(&text[..], 3).unwrap();
        assert_eq!(decompress(&streamed, 1 << 20).as_deref(), Some(&text[..]));
    }
}
