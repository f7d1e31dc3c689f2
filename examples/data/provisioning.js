// The source product's default provisioning script (reference/dirsync.md §4.1), with the
// typographic quotes of the vendor guide replaced by ASCII ones.
if (isPerson()) { destination.UsageLocation = "AU"; destination.Mail = source.CanonicalizeName; }
