#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lin6_proto::fuzzing::lin6_agent(data));
