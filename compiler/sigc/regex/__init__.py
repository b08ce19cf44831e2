"""Nmap's PCRE patterns, one step a module: the tree (``tree``), PCRE1's parser (``parse``),
the sizes PCRE1 and ``regex`` compile them to (``size``), the translation to ``regex``'s dialect
(``translate``), the literal facts a prefilter relies on (``literals``), and the entry points
that tie them together (``analysis``)."""
