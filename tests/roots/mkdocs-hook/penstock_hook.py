"""Use penstock's Markdown extension from an MkDocs hook instead of the plugin."""

from penstock_docs.markdown import PenstockFlowExtension

_flows = PenstockFlowExtension(modules=["shop_flows"], direction="LR")


def on_config(config):
    config.markdown_extensions.append(_flows)
    return config


def on_pre_build(config):
    _flows.start_build()  # import the flow modules afresh for every build
