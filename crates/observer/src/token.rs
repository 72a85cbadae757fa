//! The actions token: made from the operating system's random source at start, checked
//! on every action request.

use std::fmt;

/// 128 random bits: far beyond guessing over HTTP.
const TOKEN_BYTES: usize = 16;

/// The secret an action request must carry (`Authorization: Bearer <token>`).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Token(
            bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
        ))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `offered` is this token. Every byte is compared whatever the first
    /// difference, so the time taken says nothing about how much of a guess was right.
    pub(crate) fn accepts(&self, offered: &str) -> bool {
        let (ours, theirs) = (self.0.as_bytes(), offered.as_bytes());
        ours.len() == theirs.len()
            && ours
                .iter()
                .zip(theirs)
                .fold(0u8, |differ, (a, b)| differ | (a ^ b))
                == 0
    }
}

// Never in logs by accident: `{:?}` of a builder or an observer shows no secret.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn accepts_only_itself() {
        let Ok(token) = Token::random() else {
            panic!("the operating system's random source failed")
        };
        assert_eq!(token.as_str().len(), 32);
        assert!(token.accepts(token.as_str()));
        assert!(!token.accepts(""));
        assert!(!token.accepts(&token.as_str()[1..]));
        let mut wrong = token.as_str().to_owned();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(31.., last);
        assert!(!token.accepts(&wrong));
    }

    #[test]
    fn two_tokens_differ() {
        let (a, b) = (Token::random(), Token::random());
        assert!(matches!((a, b), (Ok(a), Ok(b)) if a != b));
    }
}
