"""sigc: the compiler from nmap-service-probes to sigscan bundles."""

# One version for both halves: the compiler writes bundles for the runtime of its own version
# (its distribution requires sigscan==__version__), and the number lives in the runtime.
from sigscan.version import __version__ as __version__
