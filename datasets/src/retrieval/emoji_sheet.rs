//! The parts of the emoji-datasource package the SOP-layout stand-in ([`super::emoji_sop`]) reads:
//! `emoji.json`'s glyphs (the base and each skin variation, with its sprite-sheet cell and which
//! vendors have an image) and one cell of a sprite sheet. Per the package's README, every cell has a
//! 1 px transparent border: the `size` px image of `(sheet_x, sheet_y)` is the square at
//! `(sheet_x * (size + 2) + 1, sheet_y * (size + 2) + 1)`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{DatasetError, Result};

/// One glyph of `emoji.json` (the base or a skin variation).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Glyph {
    pub(crate) unified: String,
    pub(crate) sheet_x: u32,
    pub(crate) sheet_y: u32,
    #[serde(flatten)]
    has: BTreeMap<String, serde_json::Value>,
}

/// One emoji of `emoji.json`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Emoji {
    #[serde(flatten)]
    pub(crate) glyph: Glyph,
    pub(crate) category: String,
    pub(crate) sort_order: u64,
    #[serde(default)]
    pub(crate) skin_variations: BTreeMap<String, Glyph>,
}

impl Glyph {
    pub(crate) fn has_image(&self, vendor: &str) -> bool {
        self.has
            .get(&format!("has_img_{vendor}"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}

/// `Smileys & Emotion` → `smileys_emotion`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// The 32 x 32 (`size`) cell `(x, y)` of an RGBA sheet over white, as RGB; a cell outside the
/// sheet is an error naming the sheet.
pub(crate) fn cell(
    sheet: &image::RgbaImage,
    name: &str,
    x: u32,
    y: u32,
    size: u32,
) -> Result<image::RgbImage> {
    let (x0, y0) = (x * (size + 2) + 1, y * (size + 2) + 1);
    if x0 + size > sheet.width() || y0 + size > sheet.height() {
        return Err(DatasetError::format(
            name,
            format!(
                "cell ({x}, {y}) lies outside the {}x{} sheet ({size} px images with a 1 px border)",
                sheet.width(),
                sheet.height()
            ),
        ));
    }
    Ok(image::RgbImage::from_fn(size, size, |i, j| {
        let p = sheet.get_pixel(x0 + i, y0 + j).0;
        let a = u32::from(p[3]);
        let over = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([over(p[0]), over(p[1]), over(p[2])])
    }))
}
