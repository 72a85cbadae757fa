//! The simulated email service: what every variant sends, and the address that fails.

use std::time::Duration;

/// The address the mail service refuses: sending to it panics, as the book's clause that
/// raises. It fails at once, before any delay, so only the crash is shown.
pub const BAD_ADDRESS: &str = "konnichiwa@world.com";

/// Sends one email, simulated: it takes `delay`, then returns the address it went to.
///
/// # Panics
///
/// For [`BAD_ADDRESS`], on purpose: the crash the chapter contains with a task
/// supervisor. Called directly (the sequential variant), the panic reaches the caller.
pub async fn send_email(address: String, delay: Duration) -> String {
    if address == BAD_ADDRESS {
        panic!("cannot send an email to {address}: the mail service refused it");
    }
    tokio::time::sleep(delay).await;
    tracing::debug!(%address, "email sent");
    address
}

/// `users` distinct, deliverable addresses: the recipients of every variant.
pub fn addresses(users: usize) -> Vec<String> {
    (1..=users).map(|n| format!("user{n}@world.com")).collect()
}

/// `addresses` with [`BAD_ADDRESS`] in the middle, so that sends come after the crash
/// as well as before it: the supervised variant's recipients.
pub fn with_bad_address(mut addresses: Vec<String>) -> Vec<String> {
    let middle = addresses.len() / 2;
    addresses.insert(middle, BAD_ADDRESS.to_owned());
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_distinct_and_deliverable() {
        let list = addresses(30);
        let unique: std::collections::BTreeSet<_> = list.iter().collect();
        assert_eq!(unique.len(), 30);
        assert!(!list.iter().any(|address| address == BAD_ADDRESS));
    }

    #[test]
    fn the_bad_address_goes_in_the_middle() {
        assert_eq!(
            with_bad_address(addresses(4)),
            [
                "user1@world.com",
                "user2@world.com",
                BAD_ADDRESS,
                "user3@world.com",
                "user4@world.com"
            ]
        );
        assert_eq!(with_bad_address(Vec::new()), [BAD_ADDRESS]);
    }
}
