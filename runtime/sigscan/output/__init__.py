"""Pure formatters of scan results: Nmap-like text, NDJSON, Nmap-compatible XML and the ``SF:``
fingerprint of unrecognized services (:mod:`sigscan.engine.fingerprint`)."""
