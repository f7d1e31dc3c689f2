//! Resource APIs, one module per family.
