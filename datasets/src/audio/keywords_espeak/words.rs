//! The 36 class words and their one recording each in `asterisk-core-sounds-en-wav` 1.6.1-1
//! (folder `usr/share/asterisk/sounds/en_US_f_Allison/`, one female speaker, "Allison"):
//! the ten digits `zero`..`nine` (`digits/0.wav`..`digits/9.wav`, Speech Commands words) and
//! the 26 words of the NATO phonetic alphabet (`phonetic/a_p.wav`..`phonetic/z_p.wav`, which
//! say "alpha".."zulu").
//!
//! Recordings of the package that are not used: `phonetic/9_p.wav` ("niner", a different word
//! from "nine"), `digits/oh.wav` ("oh", not "zero"), `letters/*.wav` (letter names: other
//! words), and the numbers above nine, which are other words.

/// One class word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    /// The class name: its folder in the Speech Commands layout, and the text espeak-ng speaks
    /// (`espeak-ng -x` gives the expected phonemes for each, e.g. `xray` → `'Eksr'eI`).
    pub class: &'static str,
    /// The recording of the word in the asterisk package, relative to its sounds folder.
    pub recording: &'static str,
}

const fn kw(class: &'static str, recording: &'static str) -> Keyword {
    Keyword { class, recording }
}

/// The class words in label order (alphabetical, as the reference orders Speech Commands).
pub const KEYWORDS: [Keyword; 36] = [
    kw("alpha", "phonetic/a_p.wav"),
    kw("bravo", "phonetic/b_p.wav"),
    kw("charlie", "phonetic/c_p.wav"),
    kw("delta", "phonetic/d_p.wav"),
    kw("echo", "phonetic/e_p.wav"),
    kw("eight", "digits/8.wav"),
    kw("five", "digits/5.wav"),
    kw("four", "digits/4.wav"),
    kw("foxtrot", "phonetic/f_p.wav"),
    kw("golf", "phonetic/g_p.wav"),
    kw("hotel", "phonetic/h_p.wav"),
    kw("india", "phonetic/i_p.wav"),
    kw("juliet", "phonetic/j_p.wav"),
    kw("kilo", "phonetic/k_p.wav"),
    kw("lima", "phonetic/l_p.wav"),
    kw("mike", "phonetic/m_p.wav"),
    kw("nine", "digits/9.wav"),
    kw("november", "phonetic/n_p.wav"),
    kw("one", "digits/1.wav"),
    kw("oscar", "phonetic/o_p.wav"),
    kw("papa", "phonetic/p_p.wav"),
    kw("quebec", "phonetic/q_p.wav"),
    kw("romeo", "phonetic/r_p.wav"),
    kw("seven", "digits/7.wav"),
    kw("sierra", "phonetic/s_p.wav"),
    kw("six", "digits/6.wav"),
    kw("tango", "phonetic/t_p.wav"),
    kw("three", "digits/3.wav"),
    kw("two", "digits/2.wav"),
    kw("uniform", "phonetic/u_p.wav"),
    kw("victor", "phonetic/v_p.wav"),
    kw("whiskey", "phonetic/w_p.wav"),
    kw("xray", "phonetic/x_p.wav"),
    kw("yankee", "phonetic/y_p.wav"),
    kw("zero", "digits/0.wav"),
    kw("zulu", "phonetic/z_p.wav"),
];

/// The class names of [`KEYWORDS`], in label order.
pub const CLASSES: [&str; 36] = {
    let mut out = [""; 36];
    let mut i = 0;
    while i < out.len() {
        out[i] = KEYWORDS[i].class;
        i += 1;
    }
    out
};
