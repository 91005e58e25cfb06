"""A session as a front end asks for it: the options (`options`), which engine, voice, rate and
pace they come to (`choices`), and opening (`opening`), exporting (`exporting`) and playing
(`playing`) it; and a copy of one to edit (`user_scripts`). `loosen.pipeline` is the public
door to all of it.
"""
