"""``Record``: named tuples declared like ``typing.NamedTuple``, without importing ``typing``.

The runtime's rows, bounds and template tables are named tuples (the leanest immutable instance
Python has, cheap to define). ``typing.NamedTuple`` makes them from class syntax, but importing
``typing`` costs a cold ``sigscan`` process about 5 ms, a tenth of identifying one banner. This
module does the same with ``collections.namedtuple``::

    from sigscan.bundle._record import Record

    class Column(Record):
        name: str
        doc: str = ""

        @property
        def title(self) -> str: ...

Type checkers see ``typing.NamedTuple`` (this module gives them that name); at run time the class body's annotations give the field
names in order (they are never evaluated, so a module may use ``from __future__ import
annotations`` and name types it only imports for checking), assigned values give the defaults,
and everything else (methods, properties, class methods, the docstring) is copied onto the
``collections.namedtuple`` class, which is what the class statement returns, as with
``typing.NamedTuple``.
"""

from collections import namedtuple

__all__ = ["Record"]

_NOT_COPIED = frozenset({"__annotations__", "__module__", "__qualname__"})  # class body names kept off

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    class _RecordMeta(type):
        def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
            if not bases:  # Record itself
                return super().__new__(mcls, name, bases, namespace)
            if bases != (Record,):
                raise TypeError(f"{name}: a Record derives from Record alone")
            annotations = namespace.get("__annotations__", {})
            assert isinstance(annotations, dict)
            fields = tuple(annotations)
            defaults = [namespace[f] for f in fields if f in namespace]
            if defaults and any(f not in namespace for f in fields[len(fields) - len(defaults):]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            made: type = namedtuple(name, fields, defaults=defaults, module=str(namespace["__module__"]))
            made.__qualname__ = str(namespace.get("__qualname__", name))
            for key, value in namespace.items():
                if key not in _NOT_COPIED and key not in fields:
                    setattr(made, key, value)
            return made

    class Record(metaclass=_RecordMeta):
        """Base of a named tuple declared with annotations (see the module docstring)."""
