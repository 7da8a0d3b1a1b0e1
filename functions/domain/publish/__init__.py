"""Publication: the publication service (``service``) and the published site it writes, rendered
purely: release pages, the newsroom index, RSS and Atom feeds and IPTC ninjs documents, from the
stored version documents (docs/architecture.md, "The published site").

The renderers (``model``, ``facts``, ``ninjs``, ``site``) do no I/O beyond reading this package's
own templates, and read no clock: every time that appears in an output is an argument, so a
render is a function of its inputs. The service does its I/O through the ports
(``functions.domain.ports``) and is given its clock. Jinja2 and feedgenerator are imported inside
the functions that need them; the API function never imports this package.
"""
