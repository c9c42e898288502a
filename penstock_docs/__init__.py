"""penstock_docs: draw penstock flows in your documentation, live from the code.

While the documentation builds, these integrations import your flow modules and embed the
flows' Mermaid diagrams, so architecture pages always show the code as it is:

- :mod:`penstock_docs.sphinx`: the Sphinx extension and its ``penstock-flow`` directive
  (reStructuredText and MyST);
- :mod:`penstock_docs.mkdocs`: the MkDocs plugin ``penstock``;
- :mod:`penstock_docs.markdown`: the Python-Markdown extension under the plugin, usable on its
  own or from an MkDocs hook.
"""
