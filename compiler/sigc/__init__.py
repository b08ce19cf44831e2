"""sigc: the compiler from nmap-service-probes to sigscan bundles."""

__version__ = "0.1.0"
