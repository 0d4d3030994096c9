#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mip6_proto::fuzzing::role_mn(data));
