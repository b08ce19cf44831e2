"""The compiler's dependencies, for hatchling: the runtime of the very version being built
(``sigscan==X``, X read from runtime/sigscan/version.py as ``[tool.hatch.version]`` says), and
the libraries only the compiler needs."""

from __future__ import annotations

from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

REQUIRES = ["lark>=1.1.9", "orjson>=3.9", "sqlite-utils>=3.36"]


class CompilerMetadata(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        metadata["dependencies"] = [f"sigscan=={metadata['version']}", *REQUIRES]
