"""Names and other visitor text inside Streamlit messages, shown as typed and never as Markdown.

st.error, st.warning, st.info and st.markdown read their text as Markdown: a file named
``![t](https://evil.example/t.png)`` would make the browser fetch that image, and ``:red[...]``,
``$...$`` or ``<b>`` would restyle the message. Everything a visitor chose (a file name, a spec's text
inside an error) goes through ``code`` or ``plain`` before it is put in a message.
"""

from __future__ import annotations

import re

# Characters that open Markdown, GitHub-flavoured or Streamlit markup: emphasis "*" "~" and "_" at a
# word's edge (inside a word, as in leaky_relu, it is plain text), code "`", HTML and autolinks "<",
# entities "&", LaTeX "$", tables "|", headings "#", and the "(" of a link or image after "]" (a
# bracket alone, as in layers[0], is plain text). Escaped with a backslash, each shows as itself.
_MARKUP = re.compile(r"([\\`*~<>$|#&]|(?<=\])\(|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|(?<=\])\[)")
# Control, line-break and bidirectional-override characters: they break lines or reorder text.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Text that becomes markup without any of the characters above: Streamlit's :emoji: and
# :color[...] shortcodes (turned into emoji after escapes are removed), and bare web and mail
# addresses that GitHub-flavoured Markdown links. An invisible word joiner (U+2060) breaks each.
_JOIN = re.compile(r"(?i)(:)(?=[a-z0-9_+\-/])|(www)(?=\.)|(@)(?=\w)")
WORD_JOINER = "\u2060"


def _flat(text: object, limit: int) -> str:
    s = _INVISIBLE.sub(" ", str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return _JOIN.sub(lambda m: m.group(0) + WORD_JOINER, s)


def plain(text: object, limit: int = 600) -> str:
    """``text`` escaped so that Markdown shows it literally, on one line, at most ``limit`` characters."""
    return _MARKUP.sub(r"\\\1", _flat(text, limit))


def code(name: object, limit: int = 200) -> str:
    """``name`` (a file name, say) as an inline code span: shown as typed, in a monospace font."""
    s = _flat(name, limit)
    fence = "`" * (max((len(m) for m in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"
