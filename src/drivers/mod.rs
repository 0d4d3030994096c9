//! Drivers that put the suite's sans-IO protocol machines on the simulated
//! network ([`crate::net`]): each one owns a machine, turns whole IPv6
//! packets into the machine's inputs, runs the data-plane transforms the
//! machine's forwarding-plane events ask for, and turns the machine's
//! transmissions back into whole IPv6 packets.
//!
//! - [`mip6`]: Mobile IPv6 mobile node, home agent and correspondent.
//! - [`shim6`]: multihomed Shim6 hosts with their data plane.

pub mod mip6;
pub mod shim6;
