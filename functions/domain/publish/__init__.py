"""The published site, rendered purely: release pages, the newsroom index, RSS and Atom feeds and
IPTC ninjs documents, from the stored version documents (DESIGN.md, "Published site").

Nothing here does I/O beyond reading this package's own templates, and nothing reads a clock:
every time that appears in an output is an argument, so a render is a function of its inputs.
Jinja2 and feedgenerator are imported inside the functions that need them; the API function never
imports this package.
"""
