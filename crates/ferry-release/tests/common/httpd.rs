//! The loopback HTTP server the tests start lives in the testkit (one copy for every suite).
#![allow(unused_imports)]
pub use ferry_testkit::httpd::*;
