#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mip6_proto::fuzzing::transform_cn_output_ro(data));
