//! Values as helm sees them: YAML read into JSON-like values (string keys, as Go's
//! `map[string]interface{}`), plus the merge rules helm's coalescing uses.

use ferry_types::{Error, Result};
use serde::{Deserialize, Deserializer};
pub use serde_json::{Map as JsonMap, Value};

pub type Map = JsonMap<String, Value>;

/// Parse a YAML values document (an empty document is an empty map). `what` names the file
/// in errors (with line and column from the parser).
pub fn parse_yaml(text: &str, what: &str) -> Result<Map> {
    let v: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| Error::InvalidConfig(format!("{what}: invalid YAML: {e}")))?;
    match to_json(v) {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(Error::InvalidConfig(format!(
            "{what}: values must be a mapping at the top level, found {}",
            kind(&other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// YAML → JSON value. Non-string keys become their text (Go's YAML decoder does the same for
/// `map[string]interface{}` values).
pub fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match to_json(k) {
                    Value::String(s) => s,
                    other => scalar_text(&other).unwrap_or_default(),
                };
                out.insert(key, to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => to_json(t.value),
    }
}

/// A scalar as Go's `%v` prints it in a template (`4.4`, `true`, `12`); `None` for maps,
/// lists and null.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Deserialize a scalar of any YAML type as a string (`version: 1.0` is a float in YAML).
pub fn stringish<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let v = serde_yaml_ng::Value::deserialize(d)?;
    Ok(scalar_text(&to_json(v)).unwrap_or_default())
}

/// Value at a dotted path (`a.b.c`).
pub fn path_value<'a>(m: &'a Map, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = m.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// Helm's coalescing of two tables: `over` wins; maps merge recursively; a `null` in `over`
/// deletes the key (helm's documented way to unset a default).
pub fn coalesce(over: &Map, base: &Map) -> Map {
    let mut out = base.clone();
    for (k, v) in over {
        match (v, out.get_mut(k)) {
            (Value::Null, _) => {
                out.remove(k);
            }
            (Value::Object(o), Some(Value::Object(b))) => {
                *b = coalesce(o, b);
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Layer user values (`-f a -f b`): `over` wins, maps merge, and a `null` is *kept* so that it
/// can still delete the chart's default when coalesced over the chart.
pub fn overlay(over: &Map, base: &Map) -> Map {
    let mut out = base.clone();
    for (k, v) in over {
        match (v, out.get_mut(k)) {
            (Value::Object(o), Some(Value::Object(b))) => {
                *b = overlay(o, b);
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_over_wins_merges_maps_and_null_deletes() {
        let base = parse_yaml("a: 1\nb: {x: 1, y: 2}\nc: keep\nd: gone", "base").unwrap();
        let over = parse_yaml("a: 2\nb: {y: 3, z: 4}\nd: null", "over").unwrap();
        let m = coalesce(&over, &base);
        assert_eq!(m["a"], 2);
        assert_eq!(m["b"]["x"], 1);
        assert_eq!(m["b"]["y"], 3);
        assert_eq!(m["b"]["z"], 4);
        assert_eq!(m["c"], "keep");
        assert!(!m.contains_key("d"));
    }

    #[test]
    fn yaml_errors_name_the_file_and_position() {
        let e = parse_yaml("a: [1\n", "charts/x/values.yaml").unwrap_err().to_string();
        assert!(e.contains("charts/x/values.yaml: invalid YAML"), "{e}");
        assert!(e.contains("line"), "{e}");
        let e = parse_yaml("- 1\n", "v.yaml").unwrap_err().to_string();
        assert!(e.contains("mapping at the top level"), "{e}");
    }

    #[test]
    fn floats_print_as_go_does() {
        let m = parse_yaml("tag: 4.4\nn: 12", "v").unwrap();
        assert_eq!(scalar_text(&m["tag"]).unwrap(), "4.4");
        assert_eq!(scalar_text(&m["n"]).unwrap(), "12");
    }
}
