"""Trend input: sources that collect posts and topics, a normalized model, and ranking."""
