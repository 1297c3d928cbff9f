//! Placeholder: filled by its issue.
pub fn placeholder() {}
