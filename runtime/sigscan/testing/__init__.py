"""Test doubles: a scripted network with a virtual clock (:mod:`.fake`) and the naive in-order
matcher the indexed one must agree with (:mod:`.naive`). No product module imports them."""
