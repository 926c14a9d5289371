//! `--set key.path=value` overrides and `[profiles.<name>]` merges, applied to the parsed TOML
//! table before it is checked against the schema (so an override naming an unknown key is
//! rejected by the schema like a typo in the file).

use std::path::Path;

use super::error::ConfigError;

/// One segment of a key path: `optimizers[1].lr` is `Key(optimizers), Index(1), Key(lr)`.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Parse `a.b[1].c` into segments; `None` if it names no key.
fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        out.push(Segment::Key(name.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']')?;
            if !rest.starts_with('[') {
                return None;
            }
            out.push(Segment::Index(rest[1..close].parse().ok()?));
            rest = &rest[close + 1..];
        }
    }
    Some(out)
}

/// Parse a value as TOML (`0.1`, `true`, `[0, 1]`, `"x"`), falling back to a plain string.
fn parse_value(text: &str) -> toml::Value {
    let doc = format!("v = {text}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(text.into())),
        Err(_) => toml::Value::String(text.to_string()),
    }
}

/// Apply one `--set key.path=value` to `table`.
pub fn apply_set(table: &mut toml::Table, file: &Path, arg: &str) -> Result<(), ConfigError> {
    let bad = |message: String| ConfigError::new(file, format!("--set {arg}"), message);
    let Some((path, value)) = arg.split_once('=') else {
        return Err(bad(
            "expected `key.path=value` (e.g. `training.steps=100` or `optimizers[0].lr=0.1`)"
                .into(),
        ));
    };
    let path = path.trim();
    let segments = parse_path(path).ok_or_else(|| {
        bad(format!(
            "`{path}` names no key; expected a dotted key path such as `training.steps` or `optimizers[1].lr`"
        ))
    })?;
    let value = parse_value(value.trim());
    let mut here = Slot::Table(table);
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        let walked = render(&segments[..i]);
        here = match (here, seg) {
            (Slot::Table(t), Segment::Key(k)) => {
                if i == last {
                    t.insert(k.clone(), value);
                    return Ok(());
                }
                let next = t
                    .entry(k.clone())
                    .or_insert(toml::Value::Table(toml::Table::new()));
                Slot::from_value(next).ok_or_else(|| {
                    bad(format!(
                        "`{}` is not a table or array, so `{path}` names no key",
                        render(&segments[..=i])
                    ))
                })?
            }
            (Slot::Array(a), Segment::Index(n)) => {
                let len = a.len();
                let next = a.get_mut(*n).ok_or_else(|| {
                    bad(format!(
                        "`{walked}` has {len} entries, so index {n} names no key"
                    ))
                })?;
                if i == last {
                    *next = value;
                    return Ok(());
                }
                Slot::from_value(next)
                    .ok_or_else(|| bad(format!("`{}` is not a table", render(&segments[..=i]))))?
            }
            (Slot::Table(_), Segment::Index(n)) => {
                return Err(bad(format!(
                    "`{walked}` is a table, not an array; `[{n}]` names no key"
                )))
            }
            (Slot::Array(_), Segment::Key(k)) => {
                return Err(bad(format!(
                    "`{walked}` is an array; use `{walked}[N].{k}` to name an entry"
                )))
            }
        };
    }
    unreachable!("the loop returns at the last segment")
}

enum Slot<'a> {
    Table(&'a mut toml::Table),
    Array(&'a mut Vec<toml::Value>),
}

impl<'a> Slot<'a> {
    fn from_value(v: &'a mut toml::Value) -> Option<Self> {
        match v {
            toml::Value::Table(t) => Some(Slot::Table(t)),
            toml::Value::Array(a) => Some(Slot::Array(a)),
            _ => None,
        }
    }
}

fn render(segments: &[Segment]) -> String {
    let mut s = String::new();
    for seg in segments {
        match seg {
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Merge `over` into `base`: tables merge key by key, anything else (arrays included) replaces.
pub fn deep_merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => deep_merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    #[test]
    fn set_parses_values_as_toml_with_string_fallback() {
        let mut t = table("[training]\nsteps = 5\n[[optimizers]]\nkind = \"sgd\"\nlr = 0.1\n");
        let f = Path::new("c.toml");
        apply_set(&mut t, f, "training.steps=7").unwrap();
        apply_set(&mut t, f, "optimizers[0].lr=0.5").unwrap();
        apply_set(&mut t, f, "optimizers[0].label=fast").unwrap();
        apply_set(&mut t, f, "seeds=[1, 2]").unwrap();
        assert_eq!(t["training"]["steps"].as_integer(), Some(7));
        assert_eq!(t["optimizers"][0]["lr"].as_float(), Some(0.5));
        assert_eq!(t["optimizers"][0]["label"].as_str(), Some("fast"));
        assert_eq!(t["seeds"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn set_naming_no_key_is_an_error() {
        let mut t = table("[[optimizers]]\nkind = \"sgd\"\n");
        let f = Path::new("c.toml");
        for arg in [
            "=3",
            "noequals",
            "optimizers[4].lr=1",
            "a..b=1",
            "optimizers.lr=1",
        ] {
            let e = apply_set(&mut t, f, arg).unwrap_err();
            assert!(e.to_string().starts_with("c.toml: --set "), "{e}");
        }
    }

    #[test]
    fn deep_merge_merges_tables_and_replaces_arrays() {
        let mut base = table("seeds = [0, 1]\n[training]\nsteps = 500\nbatch_size = 4\n");
        deep_merge(&mut base, &table("seeds = [0]\n[training]\nsteps = 50\n"));
        assert_eq!(base["training"]["steps"].as_integer(), Some(50));
        assert_eq!(base["training"]["batch_size"].as_integer(), Some(4));
        assert_eq!(base["seeds"].as_array().unwrap().len(), 1);
    }
}
