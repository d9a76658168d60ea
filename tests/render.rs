//! Placeholder; replaced by the owner of this test.
