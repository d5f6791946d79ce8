"""Content: what a Reel is made of: briefs (briefs/), the files (media/) and the video providers that make them (providers/)."""
