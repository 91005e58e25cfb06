"""Synthesized sounds: cue recipes (`audio_templates/`) and their chimes, cue files, coloured
noise and the ambience bed, and auditioning a sound on its own.
"""
