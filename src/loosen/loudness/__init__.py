"""Loudness: the streaming BS.1770 meter and true-peak bound, the limiter and the normaliser
that bring a session to its target, and per-sound loudness profiles kept in the speech cache.
"""
