//! The model of a `cordon run`: what the sandbox enforced and what the
//! command tried.
