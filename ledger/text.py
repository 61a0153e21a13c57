"""Text that enters the service: which characters are refused, and a name as an identity.

Two rules, kept apart on purpose:

- **Refused everywhere** (:func:`unsafe_character`): control characters (Unicode category
  ``Cc``, NUL and newlines included), lone surrogates (``Cs``, which no UTF-8 database column
  can hold: a 500 on PostgreSQL, like NUL) and the invisible formatting characters (``Cf``)
  that can make a text read otherwise than it is stored: the bidirectional embeddings,
  overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C, the
  "Trojan Source" characters), invisible operators, tags and the like. Every request body
  (``api.schemas.common.Body``) and every imported row is checked against it.
- **Ignored in a name** (:func:`normalise_name`): the zero-width characters that copying text
  from a web page or a word processor leaves behind (zero-width space, joiners, word joiner,
  byte-order mark, soft hyphen) are accepted in text, since refusing them would refuse honest
  input, but they do not make another person. A name is stored and compared in one form:
  those characters removed (with any other invisible control or format character a name
  stored before these rules may hold), NFKC (so composed and decomposed Hangul, full-width
  and half-width letters are one name), and runs of any whitespace (a tab, an ideographic or
  a no-break space) collapsed to one space, none at either end.

Pure: no I/O, used by the API's schemas, the registry and the importer alike.
"""

from __future__ import annotations

import unicodedata

__all__ = ["IGNORED_IN_NAMES", "normalise_name", "unsafe_character"]

# Invisible characters a pasted name may carry; removed for identity, never refused.
IGNORED_IN_NAMES = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")

_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def unsafe_character(text: str) -> str | None:
    """The first refused character of ``text``, spelled ``U+XXXX``, or None when it has none."""
    for char in text:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES or (category == "Cf" and char not in IGNORED_IN_NAMES):
            return f"U+{ord(char):04X}"
    return None


def normalise_name(name: str) -> str:
    """``name`` in the one form it is stored and compared in (see the module's docstring).

    Idempotent: a normalised name normalises to itself.
    """
    visible = "".join(
        char for char in name if char.isspace() or unicodedata.category(char) not in {"Cf", "Cc"}
    )
    return " ".join(unicodedata.normalize("NFKC", visible).split())
