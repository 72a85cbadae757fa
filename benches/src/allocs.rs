//! Counting heap allocations per event: a global allocator that counts, while a
//! measurement is armed, the allocations made between a run's start and its last event.
//!
//! A bench opts in by installing [`Counting`] as its `#[global_allocator]`; the other
//! benches' figures are untouched. Outside a window the count costs one relaxed load per
//! allocation, the same in every leg.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: arbor_benches::allocs::Counting = arbor_benches::allocs::Counting;
//!
//! arbor_benches::allocs::arm();
//! prepared.run(label, sum).await; // opens and closes the window around the move
//! let allocations = arbor_benches::allocs::disarm();
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Whether the next run's window counts.
static ARMED: AtomicBool = AtomicBool::new(false);
/// Whether allocations are being counted now.
static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting `alloc`, `alloc_zeroed` and `realloc` calls while a
/// window is open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

fn tick() {
    if COUNTING.load(Ordering::Relaxed) {
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches only atomics
// and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        tick();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        tick();
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        tick();
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Counts the allocations of the next window, from zero.
pub fn arm() {
    COUNT.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::Relaxed);
}

/// Stops counting; returns the allocations counted since [`arm`].
pub fn disarm() -> u64 {
    ARMED.store(false, Ordering::Relaxed);
    COUNTING.store(false, Ordering::Relaxed);
    COUNT.load(Ordering::Relaxed)
}

/// Opens the counting window, if armed: a run's move begins.
pub fn open_window() {
    if ARMED.load(Ordering::Relaxed) {
        COUNTING.store(true, Ordering::Relaxed);
    }
}

/// Closes the counting window: the run's last event was handled.
pub fn close_window() {
    COUNTING.store(false, Ordering::Relaxed);
}
