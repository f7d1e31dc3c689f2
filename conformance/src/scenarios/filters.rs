//! stub
use crate::scenario::Scenario;
pub(crate) const SCENARIOS: &[Scenario] = &[];
