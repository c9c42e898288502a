"""``python -m penstock``: the same as the ``penstock`` command."""

from penstock._cli import run

if __name__ == "__main__":
    run()
