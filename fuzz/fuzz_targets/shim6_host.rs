#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shim6_proto::fuzzing::shim6_host(data));
