//! pcapng capture files with the raw IPv6 link type (LINKTYPE_IPV6, 229),
//! written with the `pcap-file` crate.
//!
//! Every interface description carries `if_tsresol = 9` because the writer
//! stores timestamps in nanoseconds; Wireshark then shows the simulator's
//! virtual time exactly. The section is always little-endian so that the
//! bytes are the same on every machine.
//!
//! ```
//! use std::time::Duration;
//! use mobsim::pcap::PcapngBuilder;
//!
//! let mut b = PcapngBuilder::new();
//! let lan = b.add_interface("lan");
//! b.add_packet(lan, Duration::from_millis(3), &[0x60, 0, 0, 0, 0, 0, 59, 64]);
//! let bytes = b.finish();
//! assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a]); // Section Header Block
//! ```

use std::borrow::Cow;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::SectionHeaderBlock;

/// Builds a pcapng file in memory.
pub struct PcapngBuilder {
    writer: Option<PcapNgWriter<Vec<u8>>>,
    interfaces: u32,
}

impl Default for PcapngBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapngBuilder {
    /// A file with its section header and no interface yet.
    pub fn new() -> Self {
        let section = SectionHeaderBlock {
            endianness: pcap_file::Endianness::Little,
            ..Default::default()
        };
        Self {
            writer: PcapNgWriter::with_section_header(Vec::new(), section).ok(),
            interfaces: 0,
        }
    }

    /// Adds an interface (raw IPv6 link type) and returns its index.
    pub fn add_interface(&mut self, name: &str) -> u32 {
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::IPV6,
            snaplen: 0xffff,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(name.to_owned())),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        if let Some(w) = self.writer.as_mut()
            && w.write_block(&idb.into_block()).is_err()
        {
            self.writer = None;
        }
        let id = self.interfaces;
        self.interfaces = self.interfaces.saturating_add(1);
        id
    }

    /// Adds one packet (a whole IPv6 packet) seen on `interface` at `at`.
    pub fn add_packet(&mut self, interface: u32, at: Duration, packet: &[u8]) {
        let epb = EnhancedPacketBlock {
            interface_id: interface,
            timestamp: at,
            original_len: u32::try_from(packet.len()).unwrap_or(u32::MAX),
            data: Cow::Borrowed(packet),
            options: vec![],
        };
        if let Some(w) = self.writer.as_mut()
            && w.write_block(&epb.into_block()).is_err()
        {
            self.writer = None;
        }
    }

    /// The file's bytes. Writing to memory cannot fail, so this is the
    /// whole file; it is empty only if the pcap library refused a block.
    pub fn finish(self) -> Vec<u8> {
        self.writer
            .map(PcapNgWriter::into_inner)
            .unwrap_or_default()
    }
}

/// One interface named `name` carrying `packets` (time, IPv6 packet).
pub fn pcapng_one_interface<'a>(
    name: &str,
    packets: impl IntoIterator<Item = (Duration, &'a [u8])>,
) -> Vec<u8> {
    let mut b = PcapngBuilder::new();
    let i = b.add_interface(name);
    for (at, p) in packets {
        b.add_packet(i, at, p);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcapng::{Block, PcapNgReader};

    #[test]
    fn written_file_reads_back() {
        let pkt = [0x60u8, 0, 0, 0, 0, 0, 59, 64];
        let bytes = pcapng_one_interface("x", [(Duration::from_nanos(1_500_000_123), &pkt[..])]);
        let mut r = PcapNgReader::new(&bytes[..]).unwrap();
        let mut seen = 0;
        while let Some(block) = r.next_block() {
            match block.unwrap() {
                Block::InterfaceDescription(idb) => {
                    assert_eq!(idb.linktype, DataLink::IPV6);
                    assert!(
                        idb.options
                            .contains(&InterfaceDescriptionOption::IfTsResol(9))
                    );
                }
                Block::EnhancedPacket(epb) => {
                    assert_eq!(&*epb.data, &pkt);
                    assert_eq!(epb.timestamp, Duration::from_nanos(1_500_000_123));
                    seen += 1;
                }
                _ => {}
            }
        }
        assert_eq!(seen, 1);
    }
}
