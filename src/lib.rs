//! binaudit: which crates are inside this executable, and are any of them vulnerable?
