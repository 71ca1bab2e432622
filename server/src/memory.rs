//! The process's memory behaviour.
//!
//! glibc gives each thread that allocates its own malloc arena (up to 8 per core), and a freed
//! block goes back to its own arena only: with sled's threads, the blocking pool and the outbox's
//! batches, the resident size climbs by tens of megabytes and stays there. Two arenas keep it
//! near the working set (the outbox drain benchmark: +45 MB without, +13 MB with) at no cost in
//! throughput that the benchmarks show.

/// Limits glibc to two malloc arenas. Call before any thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Threads in the async runtime's blocking pool at most: as many as the HTTP API's store work
/// at once (`api::limits`). The store's calls run there (sled blocks); past this many at once
/// they wait in the pool's queue (none waits on another, so the queue always moves). tokio's
/// default, 512, lets a burst leave a thread behind per call in flight, each holding about half
/// a megabyte (the outbox drain benchmark: 123 MB resident after its API phase with the
/// default, 99 MB with 8 threads).
pub const BLOCKING_THREADS: usize = 32;

/// Each runtime thread's stack. A page renders on the thread that serves it, and the settings
/// page's island is one deep view: a debug build needs between 2 and 4 MiB to render it
/// (`RUST_MIN_STACK` in the Makefile gives the tests' threads the same), a release build far
/// less. Only the pages touched are resident: the reserve costs address space, not memory.
pub const THREAD_STACK_BYTES: usize = 8 << 20;

/// The async runtime the server runs on: every core, the blocking pool bounded.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()
}
