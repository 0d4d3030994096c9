#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mip6_proto::fuzzing::roles_mcoa_auth(data));
