"""Content: what a Reel is made of: briefs (briefs/), its files (media/) and the video providers that make them
(providers/)."""
