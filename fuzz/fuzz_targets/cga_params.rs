#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hba_cga::fuzzing::cga_params(data);
});
