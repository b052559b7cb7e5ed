//! Flow control: bounded buffers between stages.

mod buffer_with;
mod decouple;

pub use buffer_with::{BufferWith, Overflow};
pub(crate) use decouple::decouple as decouple_new;
pub use decouple::{Decoupled, Driver};
