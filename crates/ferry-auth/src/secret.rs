//! A string that never shows itself: `Debug` and `Display` print `<redacted>`, and it does not
//! implement `Serialize`, so it cannot leak into logs, progress events or error messages by
//! accident. Call [`Secret::expose`] at the single place the raw value is needed.

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Read from JSON (token responses, auth files) straight into a `Secret`, so the raw value never
/// sits in a plain `String` field with a derived `Debug`.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best-effort scrub of the heap copy we own.
        // SAFETY: writing zero bytes keeps the String valid UTF-8.
        unsafe { self.0.as_bytes_mut().fill(0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "hunter2");
    }
}
