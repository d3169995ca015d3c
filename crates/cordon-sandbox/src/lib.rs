//! The sandbox that `cordon run` puts a command in, built directly on
//! kernel facilities, one module per facility.
