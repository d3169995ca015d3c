//! Capabilities: every set emptied, the bounding set too, and
//! `no_new_privs`, so that no exec can give any back.

use std::fs;

use crate::error::{Error, os};
use crate::sys;

/// The highest capability number the kernel knows, from
/// `/proc/sys/kernel/cap_last_cap`; 63 when it cannot be read, since
/// dropping numbers the kernel does not know is harmless.
pub fn last_cap() -> u32 {
    fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(63)
}

/// Drops every capability up to `last_cap` from every set, checks that
/// none is left, and sets `no_new_privs`.
pub fn drop_all(last_cap: u32) -> Result<(), Error> {
    sys::drop_all_capabilities(last_cap)
        .map_err(os("drop the capabilities"))?;

    let empty = sys::has_no_capabilities(last_cap)
        .map_err(os("read the capabilities back"))?;
    if !empty {
        return Err(Error::Setup(
            "capabilities are still held after dropping them".into(),
        ));
    }

    set_no_new_privs()
}

/// Sets `PR_SET_NO_NEW_PRIVS`: exec grants no privilege from now on.
pub fn set_no_new_privs() -> Result<(), Error> {
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
        .map_err(os("set no_new_privs"))?;
    let set = sys::prctl(libc::PR_GET_NO_NEW_PRIVS, 0)
        .map_err(os("read no_new_privs back"))?;
    if set != 1 {
        return Err(Error::Setup("no_new_privs did not stay set".into()));
    }
    Ok(())
}
