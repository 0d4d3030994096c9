#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mobsim::decode::fuzz_decode(data));
