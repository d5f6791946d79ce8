"""Files: rendering, captions, sound, ffmpeg, optimizing and preflight: everything that makes and checks a video
file."""
