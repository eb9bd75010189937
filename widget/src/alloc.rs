//! The page's memory allocator. Rust's default for wasm (dlmalloc) costs
//! about 7 KB of the page's wasm; this one costs a few hundred bytes.
//!
//! Blocks come in power-of-two size classes (8 bytes up), each class with
//! a free list; new blocks are cut from a bump region that grows the wasm
//! memory. A freed block is only ever reused for its own class, never
//! split or merged. That wastes up to half of each block, which is fine
//! for a page that lives minutes and holds well under a megabyte; the
//! code is small enough to be checked by eye. wasm32 without threads: one
//! caller at a time.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::memory_grow;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65536;
/// Blocks are aligned to their size, up to this.
const MAX_ALIGN: usize = 4096;

struct Heap {
    /// Head of each class's free list (a freed block holds the next one).
    free: [*mut u8; usize::BITS as usize],
    /// The bump region `[next, end)`.
    next: usize,
    end: usize,
}

pub struct PageAlloc(UnsafeCell<Heap>);

// SAFETY: wasm32-unknown-unknown runs this module on one thread.
unsafe impl Sync for PageAlloc {}

impl PageAlloc {
    pub const fn new() -> PageAlloc {
        PageAlloc(UnsafeCell::new(Heap {
            free: [null_mut(); usize::BITS as usize],
            next: 0,
            end: 0,
        }))
    }
}

impl Default for PageAlloc {
    fn default() -> Self {
        Self::new()
    }
}

/// The size class: `log2` of the block size that holds `layout`.
pub fn class(layout: Layout) -> usize {
    let size = layout.size().max(layout.align()).max(8);
    (usize::BITS - (size - 1).leading_zeros()) as usize
}

unsafe impl GlobalAlloc for PageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let heap = &mut *self.0.get();
        let c = class(layout);
        if c >= usize::BITS as usize - 1 {
            return null_mut();
        }
        let head = heap.free[c];
        if !head.is_null() {
            heap.free[c] = *(head as *mut *mut u8);
            return head;
        }
        let size = 1usize << c;
        let align = size.min(MAX_ALIGN);
        if layout.align() > align {
            return null_mut();
        }
        let mut start = (heap.next + align - 1) & !(align - 1);
        if start.checked_add(size).is_none_or(|e| e > heap.end) {
            let pages = (size + align).div_ceil(PAGE);
            let old = memory_grow(0, pages);
            if old == usize::MAX {
                return null_mut();
            }
            let base = old * PAGE;
            if base != heap.end {
                heap.next = base;
            }
            heap.end = base + pages * PAGE;
            start = (heap.next + align - 1) & !(align - 1);
        }
        heap.next = start + size;
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let heap = &mut *self.0.get();
        let c = class(layout);
        *(ptr as *mut *mut u8) = heap.free[c];
        heap.free[c] = ptr;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align_unchecked(new_size, layout.align());
        if class(new) == class(layout) {
            return ptr;
        }
        let moved = self.alloc(new);
        if !moved.is_null() {
            core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn size_classes() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(class(l(1, 1)), 3);
        assert_eq!(class(l(8, 8)), 3);
        assert_eq!(class(l(9, 1)), 4);
        assert_eq!(class(l(4, 16)), 4);
        assert_eq!(class(l(65536, 8)), 16);
        assert_eq!(class(l(65537, 8)), 17);
    }

    #[test]
    fn blocks_are_aligned_reused_and_kept_apart() {
        let a = PageAlloc::new();
        unsafe {
            let l = |size, align| Layout::from_size_align(size, align).unwrap();
            let mut live = vec![];
            for (i, (size, align)) in [(1, 1), (24, 8), (100, 4), (32, 32), (5000, 8), (70000, 16), (3, 2)]
                .into_iter()
                .cycle()
                .take(70)
                .enumerate()
            {
                let layout = l(size, align);
                let p = a.alloc(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                core::ptr::write_bytes(p, i as u8, size);
                live.push((p, layout, i as u8));
            }
            for (p, layout, fill) in &live {
                let bytes = core::slice::from_raw_parts(*p, layout.size());
                assert!(bytes.iter().all(|b| b == fill), "blocks overlap");
            }
            let (p, layout, _) = live[4];
            a.dealloc(p, layout);
            assert_eq!(a.alloc(l(6000, 8)), p, "a freed block is reused");
            let grown = a.realloc(p, l(6000, 8), 8192);
            assert_eq!(grown, p, "same class: stays");
            core::ptr::write_bytes(p, 7, 8192);
            let moved = a.realloc(p, l(8192, 8), 9000);
            assert_ne!(moved, p);
            let bytes = core::slice::from_raw_parts(moved, 8192);
            assert!(bytes.iter().all(|b| *b == 7), "content moves along");
            assert!(a.alloc(l((1 << 31) - 8, 8)).is_null(), "over 1 GiB: refused");
        }
    }
}
