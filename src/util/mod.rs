//! Private machinery shared by several adapters.

mod budget;
mod indexed;
mod reorder;
pub(crate) mod size_hint;

pub(crate) use budget::Budget;
pub(crate) use indexed::Indexed;
pub(crate) use reorder::ReorderBuffer;
