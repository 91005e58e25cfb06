"""The one renderer: placing the timeline's sounds as speech is measured, and mixing them into a
stream of audio blocks (float32, shape (frames, channels)) that playback and export both consume.
"""
