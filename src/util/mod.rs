//! Private machinery shared by several adapters.

mod budget;
mod indexed;
mod outputs;
mod reorder;
pub(crate) mod size_hint;
mod slots;
pub(crate) mod sync;
mod wake_set;

pub(crate) use budget::Budget;
pub(crate) use budget::POLL_BUDGET;
pub(crate) use indexed::Indexed;
pub(crate) use outputs::{Fifo, Outputs};
pub(crate) use reorder::ReorderBuffer;
pub(crate) use slots::Slots;
pub(crate) use wake_set::WakeSet;

/// The accessors every single-upstream adapter has, as in futures-util:
/// `get_ref`, `get_mut`, `get_pin_mut` and `into_inner` (whose doc says what
/// the adapter drops with itself).
macro_rules! stream_accessors {
    ($field:ident: $ty:ty, $into_inner_doc:literal) => {
        /// Acquires a reference to the underlying stream.
        pub fn get_ref(&self) -> &$ty {
            &self.$field
        }

        /// Acquires a mutable reference to the underlying stream. Items pulled
        /// from it directly bypass the adapter.
        pub fn get_mut(&mut self) -> &mut $ty {
            &mut self.$field
        }

        /// Acquires a pinned mutable reference to the underlying stream.
        pub fn get_pin_mut(self: core::pin::Pin<&mut Self>) -> core::pin::Pin<&mut $ty> {
            self.project().$field
        }

        #[doc = $into_inner_doc]
        pub fn into_inner(self) -> $ty {
            self.$field
        }
    };
}
pub(crate) use stream_accessors;

/// [`stream_accessors!`] for adapters that hold upstream inside a
/// futures-util wrapper with the same four accessors: `IntoStream<St>` (over a
/// `TryStream`) or `Peekable<St>` (one item taken ahead).
macro_rules! wrapped_stream_accessors {
    ($field:ident: $ty:ty, $into_inner_doc:literal) => {
        /// Acquires a reference to the underlying stream.
        pub fn get_ref(&self) -> &$ty {
            self.$field.get_ref()
        }

        /// Acquires a mutable reference to the underlying stream. Items pulled
        /// from it directly bypass the adapter.
        pub fn get_mut(&mut self) -> &mut $ty {
            self.$field.get_mut()
        }

        /// Acquires a pinned mutable reference to the underlying stream.
        pub fn get_pin_mut(self: core::pin::Pin<&mut Self>) -> core::pin::Pin<&mut $ty> {
            self.project().$field.get_pin_mut()
        }

        #[doc = $into_inner_doc]
        pub fn into_inner(self) -> $ty {
            self.$field.into_inner()
        }
    };
}
pub(crate) use wrapped_stream_accessors;
