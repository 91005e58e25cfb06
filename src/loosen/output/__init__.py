"""Writing what the renderer streams: audio formats and encoders, tags (ID3v2, RIFF INFO and
markers, Vorbis comments), the LAME/Xing header, sidecars (captions, CUE, labels), batch
exports and the checks that a destination can be written.
"""
