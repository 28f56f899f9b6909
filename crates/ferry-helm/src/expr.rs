//! A very small evaluator for the template expressions of one `image:` line, used only where
//! the values alone do not give the image (see [`crate::scan`]): `.Values.a.b`, string
//! literals, `printf` with `%s`/`%v`, `default`, `quote`, `trim`, `lower`, pipelines and
//! parentheses. Anything else makes the evaluation fail (the image stays unresolved): a wrong
//! guess is worse than an honest "could not work it out".

use crate::yaml::{path_value, scalar_text, Map};

/// Evaluate the value of an `image:` line (`image: "{{ … }}:{{ … }}"`), or `None`.
pub fn eval_image_line(line: &str, values: &Map) -> Option<String> {
    let rest = line
        .trim_start()
        .trim_start_matches("- ")
        .trim_start()
        .strip_prefix("image:")?
        .trim();
    let mut out = String::new();
    let mut s = rest;
    while let Some(i) = s.find("{{") {
        out.push_str(&s[..i]);
        let j = s[i..].find("}}")? + i;
        let inner = s[i + 2..j].trim_matches('-').trim();
        out.push_str(&eval(inner, values)?);
        s = &s[j + 2..];
    }
    out.push_str(s);
    let v = out.trim().trim_matches('"').trim_matches('\'').trim().to_string();
    (!v.is_empty() && !v.contains(char::is_whitespace)).then_some(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Word(String),
    Pipe,
    Open,
    Close,
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(&c) = it.peek() {
        match c {
            ' ' | '\t' => {
                it.next();
            }
            '|' => {
                it.next();
                out.push(Tok::Pipe);
            }
            '(' => {
                it.next();
                out.push(Tok::Open);
            }
            ')' => {
                it.next();
                out.push(Tok::Close);
            }
            '"' => {
                it.next();
                let mut v = String::new();
                loop {
                    match it.next()? {
                        '"' => break,
                        '\\' => v.push(it.next()?),
                        ch => v.push(ch),
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = it.peek() {
                    if " \t|()\"".contains(ch) {
                        break;
                    }
                    w.push(ch);
                    it.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Some(out)
}

fn eval(s: &str, values: &Map) -> Option<String> {
    let toks = lex(s)?;
    let (v, rest) = pipeline(&toks, values)?;
    rest.is_empty().then_some(v)
}

/// `cmd | cmd …` where a later command gets the previous result as its last argument.
fn pipeline<'a>(toks: &'a [Tok], values: &Map) -> Option<(String, &'a [Tok])> {
    let (mut v, mut rest) = command(toks, values, None)?;
    while let Some(Tok::Pipe) = rest.first() {
        let (nv, r) = command(&rest[1..], values, Some(v))?;
        v = nv;
        rest = r;
    }
    Some((v, rest))
}

fn operand<'a>(toks: &'a [Tok], values: &Map) -> Option<(String, &'a [Tok])> {
    match toks.first()? {
        Tok::Str(s) => Some((s.clone(), &toks[1..])),
        Tok::Word(w) if w.starts_with(".Values.") || w.starts_with("$.Values.") => {
            let p = w.trim_start_matches('$').trim_start_matches(".Values.");
            let v = path_value(values, p).and_then(scalar_text).unwrap_or_default();
            Some((v, &toks[1..]))
        }
        Tok::Open => {
            let (v, rest) = pipeline(&toks[1..], values)?;
            match rest.first()? {
                Tok::Close => Some((v, &rest[1..])),
                _ => None,
            }
        }
        _ => None,
    }
}

fn command<'a>(toks: &'a [Tok], values: &Map, piped: Option<String>) -> Option<(String, &'a [Tok])> {
    let Some(Tok::Word(f)) = toks.first() else {
        return match piped {
            None => operand(toks, values),
            Some(_) => None,
        };
    };
    if f.starts_with('.') || f.starts_with('$') {
        return match piped {
            None => operand(toks, values),
            Some(_) => None,
        };
    }
    let mut args = Vec::new();
    let mut rest = &toks[1..];
    while matches!(rest.first(), Some(Tok::Str(_) | Tok::Word(_) | Tok::Open)) {
        let (a, r) = operand(rest, values)?;
        args.push(a);
        rest = r;
    }
    args.extend(piped);
    let v = match (f.as_str(), args.as_slice()) {
        ("default", [d, x]) => {
            if x.is_empty() {
                d.clone()
            } else {
                x.clone()
            }
        }
        ("quote", [x]) | ("trim", [x]) => x.trim().to_string(),
        ("lower", [x]) => x.to_lowercase(),
        ("printf", [fmt, rest @ ..]) => printf(fmt, rest)?,
        _ => return None,
    };
    Some((v, rest))
}

fn printf(fmt: &str, args: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            's' | 'v' => out.push_str(args.next()?),
            '%' => out.push('%'),
            _ => return None,
        }
    }
    args.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_binding_operator_line() {
        let v = crate::yaml::parse_yaml("image:\n  repository: quay.io/redhat-developer\n", "v").unwrap();
        let line = r#"        image: {{.Values.image.image | default (printf "%s/%s" .Values.image.repository "servicebinding-operator@sha256:16286ac84ddd521897d92472dae857a4c18479f255b725dfb683bc72df6e0865") | quote}}"#;
        assert_eq!(
            eval_image_line(line, &v).unwrap(),
            "quay.io/redhat-developer/servicebinding-operator@sha256:16286ac84ddd521897d92472dae857a4c18479f255b725dfb683bc72df6e0865"
        );
        let v2 = crate::yaml::parse_yaml("image:\n  image: my/own:1\n", "v").unwrap();
        assert_eq!(eval_image_line(line, &v2).unwrap(), "my/own:1");
    }

    #[test]
    fn unknown_functions_fail() {
        let v = Map::new();
        assert_eq!(eval_image_line(r#"image: {{ include "x.image" . }}"#, &v), None);
        assert_eq!(
            eval_image_line(r#"image: "{{ .Values.a }}:{{ .Values.b }}""#, &v),
            Some(":".into())
        );
        assert_eq!(eval_image_line("image: {{ .Values.missing }}", &v), None);
    }
}
