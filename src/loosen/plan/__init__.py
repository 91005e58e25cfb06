"""From a script to a timeline: expanding steps into speech, silences and cues, pacing and fitting
them, the sample-exact timeline, chapters, step addresses and the session's length estimate.
Everything here is pure: no audio, no files, no environment.
"""
