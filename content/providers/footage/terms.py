"""What to search a stock library for, from a scene's prompt and words: its keywords, most specific first.

A prompt is written for a text-to-video model ("Vertical 9:16 energetic video: three stretches for desk workers.
Close-ups, bright colours"); a stock search wants the things in the picture ("stretches desk workers"). Without a
tagger, nouns are approximated: stop words, camera and style words, numbers and -ly adverbs are dropped, and the
words that remain keep their order (the subject comes first in a prompt).
"""
from __future__ import annotations

import re

from content.media.timeline import Scene

MAX_WORDS = 3  # the most specific search: a library ANDs its words, more than three rarely finds anything
MAX_TERMS = 3
WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further get gets got had has have having he her here
hers him his how i if in into is it its itself just let me more most my no nor not now of off on once one only or
other our ours out over own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why will with would you
your yours two three four five six seven eight nine ten first second third every need know thing things tells nobody
here's don't can't won't it's you're quick way ways tip tips day days make makes made like
vertical horizontal video videos clip clips footage shot shots scene scenes cinematic camera close closeup close-up
close-ups ups handheld feel style theme story showing shows show bright colours colors colour color golden hour
energetic calm moody upbeat aesthetic vibe vibes high quality hd 4k slow motion background
""".split())


def keywords(text: str) -> list[str]:
    """The words of `text` that name things, in order, each once."""
    found: list[str] = []
    for word in WORD.findall(text.lower()):
        word = word.strip("'-")
        if len(word) < 3 or word in STOP_WORDS or word.endswith("ly") or word in found:
            continue
        found.append(word)
    return found


def search_terms(scene: Scene) -> list[str]:
    """Searches for `scene`, narrowest first: the prompt's first keywords, then fewer of them (broader), then the
    scene's own words when its prompt names nothing."""
    words = keywords(scene.prompt) or keywords(scene.text)
    terms = [" ".join(words[:count]) for count in range(min(MAX_WORDS, len(words)), 0, -1)]
    return terms[:MAX_TERMS]
