//! Flow control: bounded buffers between stages, and stages that move on
//! their own.

mod buffer_with;
pub(crate) mod channel;
mod decouple;
mod stage;

pub use buffer_with::{BufferWith, Overflow};
pub(crate) use decouple::decouple as decouple_new;
pub use decouple::{Decoupled, Driver};
pub(crate) use stage::stage as stage_new;
pub use stage::{StageDrivers, StageInput, Staged};
