//! graphbox-conformance: Graph behaviour scenarios for the mock and real tenants.
