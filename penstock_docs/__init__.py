"""penstock_docs: documentation-build integrations for penstock.

While the documentation builds, these integrations import your flows and embed their diagrams,
so the architecture pages always show the code as it is. The Sphinx extension and the MkDocs
plugin arrive in the next release; this package reserves their home.
"""
