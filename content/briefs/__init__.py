"""Briefs: a trend turned into what the video says and shows (templates, the optional LLM writer, the prompt policy)."""
