import os
import sys

# The flows these test projects document live in ../_flows.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_flows"))

project = "penstock test: MyST"
extensions = ["myst_parser", "penstock_docs.sphinx"]
penstock_modules = ["shop_flows"]
exclude_patterns = ["_build"]
