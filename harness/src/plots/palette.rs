//! One colour per optimizer label, the same in every plot: known labels have fixed colours
//! (baselines in cool colours, P variants in warm ones); any other label gets a colour from a
//! stable (FNV-1a) hash of its name.

use plotters::style::RGBColor;

/// Fixed colours of the labels the configs use.
const KNOWN: &[(&str, RGBColor)] = &[
    ("gd", RGBColor(110, 110, 110)),
    ("vanilla_sgd", RGBColor(110, 110, 110)),
    ("sgd", RGBColor(31, 119, 180)),
    ("momentum", RGBColor(31, 119, 180)),
    ("momentum_sgd", RGBColor(31, 119, 180)),
    ("momentum_wd", RGBColor(23, 190, 207)),
    ("momentum_0.9", RGBColor(31, 119, 180)),
    ("momentum_0.95", RGBColor(23, 190, 207)),
    ("momentum_0.99", RGBColor(20, 50, 120)),
    ("sgdp", RGBColor(214, 39, 40)),
    ("sgdp_0.9", RGBColor(214, 39, 40)),
    ("sgdp_0.95", RGBColor(255, 127, 14)),
    ("sgdp_0.99", RGBColor(140, 20, 20)),
    ("adam", RGBColor(44, 160, 44)),
    ("adamw", RGBColor(140, 86, 75)),
    ("adamp", RGBColor(148, 103, 189)),
];

/// Colours for labels not in the fixed list.
const EXTRA: &[RGBColor] = &[
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(255, 152, 150),
    RGBColor(174, 199, 232),
    RGBColor(152, 223, 138),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
    RGBColor(219, 219, 141),
];

/// The colour of an optimizer label.
pub fn label_color(label: &str) -> RGBColor {
    let lower = label.to_ascii_lowercase();
    if let Some((_, c)) = KNOWN.iter().find(|(l, _)| *l == lower) {
        return *c;
    }
    let hash = lower.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    EXTRA[(hash % EXTRA.len() as u64) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_fixed_and_stable() {
        assert_eq!(label_color("sgd"), RGBColor(31, 119, 180));
        assert_eq!(label_color("SGDP"), label_color("sgdp"));
        assert_ne!(label_color("sgd"), label_color("sgdp"));
        assert_eq!(label_color("my_new_opt"), label_color("my_new_opt"));
    }
}
