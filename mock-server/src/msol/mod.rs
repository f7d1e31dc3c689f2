//! MSOnline provisioning web service (SOAP).
