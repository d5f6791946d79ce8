"""Content: briefs from trends, video providers, the local renderer and platform tooling."""
