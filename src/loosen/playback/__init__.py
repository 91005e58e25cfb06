"""Live playback: the transport (blocks to the audio device, commands through a queue), the
player's controls, terminal keys and the saved resume position.
"""
