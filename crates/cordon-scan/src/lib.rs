//! The rule engine: rules as data, matched against every file of a
//! package in one pass, combined into a verdict.

#![forbid(unsafe_code)]
