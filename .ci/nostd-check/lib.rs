//! no_std link check for the protocol crates (see Cargo.toml).
#![no_std]
// A global allocator can only be written with `unsafe`; this check crate is
// not part of the suite and is never linked into anything.
#![allow(unsafe_code)]

extern crate alloc;

pub use hba_cga as _hba_cga;
pub use lin6_proto as _lin6_proto;
pub use lsserver_proto as _lsserver_proto;
pub use mip6_proto as _mip6_proto;
pub use shim6_proto as _shim6_proto;

struct NoHeap;

// SAFETY: never hands out memory; allocation always fails with null, which
// GlobalAlloc allows.
unsafe impl core::alloc::GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _layout: core::alloc::Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: core::alloc::Layout) {}
}

#[global_allocator]
static HEAP: NoHeap = NoHeap;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
