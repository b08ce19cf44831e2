"""The nmap-service-probes language: its grammar, the parser that checks each line with Nmap's
rules, the model it builds, probe-string escapes, and the nmap-services / nmap-rpc tables."""
