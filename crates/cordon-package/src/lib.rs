//! Reading packages: directories, single files and archives, into memory,
//! under limits, without ever writing to disk.

#![forbid(unsafe_code)]
