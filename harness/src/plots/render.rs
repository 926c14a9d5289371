//! Rendering one figure to PNG and SVG, atomically, with an embedded font.
//!
//! Text uses plotters' `ab_glyph` backend with DejaVu Sans registered from bytes (the `dejavu`
//! crate embeds the TTF; DejaVu's licence allows redistribution), so plots render on a fresh
//! machine without fontconfig or system fonts.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use adamp_fsio::{write_atomic, write_atomic_with};

/// Font family names plotters asks for; all map to the embedded DejaVu Sans.
const FAMILIES: &[&str] = &["sans-serif", "serif", "monospace", "DejaVu Sans"];

/// Registers the embedded font once per process (idempotent).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in FAMILIES {
            for (style, bytes) in [
                (FontStyle::Normal, dejavu::sans::regular()),
                (FontStyle::Bold, dejavu::sans::bold()),
                (FontStyle::Italic, dejavu::sans::oblique()),
                (FontStyle::Oblique, dejavu::sans::oblique()),
            ] {
                if register_font(family, style, bytes).is_err() {
                    tracing::warn!(
                        "could not register the embedded DejaVu Sans font for `{family}`"
                    );
                }
            }
        }
    });
}

/// Turns a plotters error (whose types vary by backend) into an `anyhow` error.
pub(crate) trait PlotResult<T> {
    /// Maps the error, saying what was being drawn.
    fn plot(self, what: &str) -> Result<T>;
}

impl<T, E: std::fmt::Debug> PlotResult<T> for std::result::Result<T, E> {
    fn plot(self, what: &str) -> Result<T> {
        self.map_err(|e| anyhow!("drawing {what}: {e:?}"))
    }
}

/// Something drawable on any plotters backend.
pub trait Figure {
    /// Pixel size (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws onto the whole `root` area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Draws `figure` into the PNG file `path`.
fn draw_png(figure: &impl Figure, path: &Path, stem: &str) -> Result<()> {
    let root = BitMapBackend::new(path, figure.size()).into_drawing_area();
    root.fill(&WHITE).plot(stem)?;
    figure.draw(&root)?;
    root.present()
        .plot(&format!("{stem}.png (writing {})", path.display()))
}

/// Renders `figure` to `<dir>/<stem>.png` only (figures made of photographs: plotters' SVG
/// backend, as built here, draws a bitmap as one `<rect>` per pixel); returns the path.
pub fn render_png(figure: &impl Figure, dir: &Path, stem: &str) -> Result<PathBuf> {
    register_fonts();
    std::fs::create_dir_all(dir).with_context(|| format!("creating folder {}", dir.display()))?;
    let png = dir.join(format!("{stem}.png"));
    // The temporary path keeps `.png`: plotters picks the encoder from the extension.
    write_atomic_with(&png, |tmp| draw_png(figure, tmp, stem))?;
    Ok(png)
}

/// Renders `figure` to `<dir>/<stem>.png` and `<dir>/<stem>.svg`; returns both paths.
pub fn render(figure: &impl Figure, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    let png = render_png(figure, dir, stem)?;

    let svg = dir.join(format!("{stem}.svg"));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, figure.size()).into_drawing_area();
        root.fill(&WHITE).plot(stem)?;
        figure.draw(&root)?;
        root.present()
            .plot(&format!("{} (the SVG)", svg.display()))?;
    }
    write_atomic(&svg, text.as_bytes()).with_context(|| format!("writing {}", svg.display()))?;
    Ok(vec![png, svg])
}
